// otlpgrpc: an OTLP/gRPC logs client on grpc-go, for Sluice's end-to-end tests. It sends
// log export requests the way the OpenTelemetry Collector's otlp exporter does, including
// its zstd and snappy compressors (grpc-go ships only gzip; the Collector registers these
// two under the same names), with a per-call deadline, from several goroutines at once.
//
//	otlpgrpc -addr 127.0.0.1:4317 -pipeline otel-logs -compression zstd -run r1 \
//	         -requests 100 -records 10 -concurrency 8 -timeout 5s
//
// Each record carries the attribute test.run=<run> and req=<request index>. It prints one
// JSON object: the count of each status code and the indices of the requests answered OK.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	common "go.opentelemetry.io/proto/otlp/common/v1"
	logs "go.opentelemetry.io/proto/otlp/logs/v1"
	resource "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// zstdCompressor and snappyCompressor implement encoding.Compressor under the names the
// Collector uses ("zstd", "snappy").
type zstdCompressor struct{}

func (zstdCompressor) Name() string { return "zstd" }
func (zstdCompressor) Compress(w io.Writer) (io.WriteCloser, error) {
	return zstd.NewWriter(w)
}
func (zstdCompressor) Decompress(r io.Reader) (io.Reader, error) {
	d, err := zstd.NewReader(r)
	if err != nil {
		return nil, err
	}
	return d.IOReadCloser(), nil
}

type snappyCompressor struct{}

func (snappyCompressor) Name() string { return "snappy" }
func (snappyCompressor) Compress(w io.Writer) (io.WriteCloser, error) {
	return snappy.NewBufferedWriter(w), nil
}
func (snappyCompressor) Decompress(r io.Reader) (io.Reader, error) {
	return snappy.NewReader(r), nil
}

func str(s string) *common.AnyValue {
	return &common.AnyValue{Value: &common.AnyValue_StringValue{StringValue: s}}
}

func request(run string, index, records int) *collogs.ExportLogsServiceRequest {
	var recs []*logs.LogRecord
	for i := 0; i < records; i++ {
		recs = append(recs, &logs.LogRecord{
			TimeUnixNano: uint64(1717171717000000000 + i),
			Body:         str(fmt.Sprintf("%s #%d.%d", run, index, i)),
			Attributes: []*common.KeyValue{
				{Key: "test.run", Value: str(run)},
				{Key: "req", Value: str(fmt.Sprint(index))},
			},
		})
	}
	return &collogs.ExportLogsServiceRequest{ResourceLogs: []*logs.ResourceLogs{{
		Resource:  &resource.Resource{Attributes: []*common.KeyValue{{Key: "service.name", Value: str("otlpgrpc")}}},
		ScopeLogs: []*logs.ScopeLogs{{LogRecords: recs}},
	}}}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:4317", "host:port")
	pipeline := flag.String("pipeline", "", "x-glassflow-pipeline-id")
	compression := flag.String("compression", "none", "none, gzip, zstd or snappy")
	run := flag.String("run", "otlpgrpc", "value of the test.run attribute")
	requests := flag.Int("requests", 1, "requests to send")
	records := flag.Int("records", 1, "log records per request")
	concurrency := flag.Int("concurrency", 1, "calls in flight")
	timeout := flag.Duration("timeout", 10*time.Second, "deadline of each call")
	caFile := flag.String("ca", "", "TLS: trust this CA (PEM), as the Collector's tls.ca_file")
	certFile := flag.String("cert", "", "TLS: client certificate (PEM), as tls.cert_file")
	keyFile := flag.String("key", "", "TLS: client key (PEM), as tls.key_file")
	token := flag.String("token", "", "bearer token, as the bearertokenauth extension sends it")
	flag.Parse()
	encoding.RegisterCompressor(zstdCompressor{})
	encoding.RegisterCompressor(snappyCompressor{})

	creds := insecure.NewCredentials()
	if *caFile != "" {
		// What the Collector's configtls builds from ca_file / cert_file / key_file.
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		if *certFile != "" {
			pair, err := tls.LoadX509KeyPair(*certFile, *keyFile)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		creds = credentials.NewTLS(cfg)
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer conn.Close()
	client := collogs.NewLogsServiceClient(conn)
	var opts []grpc.CallOption
	if *compression != "none" {
		opts = append(opts, grpc.UseCompressor(*compression))
	}

	var mu sync.Mutex
	codes := map[string]int{}
	messages := map[string]string{}
	acked := []int{}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < *concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				req := request(*run, i, *records)
				ctx, cancel := context.WithTimeout(context.Background(), *timeout)
				ctx = metadata.AppendToOutgoingContext(ctx, "x-glassflow-pipeline-id", *pipeline)
				if *token != "" {
					ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+*token)
				}
				_, err := client.Export(ctx, req, opts...)
				cancel()
				st := status.Convert(err)
				mu.Lock()
				codes[st.Code().String()]++
				if err == nil {
					acked = append(acked, i)
				} else {
					messages[st.Code().String()] = st.Message()
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < *requests; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	out, _ := json.Marshal(map[string]any{"codes": codes, "messages": messages, "acked": acked})
	fmt.Println(string(out))
}
