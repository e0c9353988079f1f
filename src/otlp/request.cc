#include "otlp/request.h"

#include "core/cat.h"
#include "otlp/json.h"

namespace sluice::otlp {

StatusOr<DecodedRequest> DecodeRequest(Signal signal, std::string body, bool json) {
  DecodedRequest d;
  if (json) {
    if (!body.empty()) {
      Status s = JsonToProto(signal, body, &d.proto);
      if (!s.ok()) return s;
    }
  } else {
    d.proto = std::move(body);
  }
  std::string canonical;
  auto v = Validate(signal, d.proto, &canonical);
  if (!v.ok())
    return absl::InvalidArgumentError(Cat("cannot decode the request: ", v.status().message()));
  if (v->needs_canonical) d.proto = std::move(canonical);
  d.result = std::move(*v);
  return d;
}

}  // namespace sluice::otlp
