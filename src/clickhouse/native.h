// ClickHouse's Native format (columnar blocks; docs: clickhouse-protocol.md §3), built from
// the RowBinary rows the batch encoder writes, so that batches can stay in RowBinary (rows
// rolled back, sliced by offset, singled out for the dead-letter queue) and still be sent
// as Native. `sluice encode --native` prints it; the golden tests check that a current
// ClickHouse reads it back as the same rows. The HTTP sink sends RowBinary: measured on
// 18.16, Native cost Sluice 0.3 µs per row more and landed no faster (docs/performance.md);
// the native TCP protocol needs these blocks. Thread-safe (per-thread column buffers).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/rowbinary.h"
#include "core/status.h"

namespace sluice::clickhouse {

// Bytes of one value of a fixed-width type (integers, floats, dates, UUID, FixedString,
// enums); 0 for the others.
size_t FixedWidth(const Type& t);

// Appends to `out` one Native block (without BlockInfo, which the TCP protocol puts before
// it) holding the `rows` RowBinary
// rows in `bytes`, whose columns are `columns` (names and the server's types, in order).
// InvalidArgument when the bytes do not hold exactly that many rows of those types.
// With `custom_flag` each column header ends with the custom-serialization byte (0), as
// the TCP protocol wants from revision 54454.
Status RowBinaryToNative(const std::vector<ColumnBinding>& columns, std::string_view bytes,
                         uint64_t rows, std::string* out, bool custom_flag = false);

}  // namespace sluice::clickhouse
