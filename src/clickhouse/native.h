// ClickHouse's Native format (columnar blocks; docs: clickhouse-protocol.md §3), built from
// the RowBinary rows the batch encoder writes. The batch stays in RowBinary (rows can be
// rolled back, sliced by offset and singled out for the dead-letter queue); at send time
// its rows are transcoded into one Native block, which the server reads column by column
// instead of parsing row by row. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/rowbinary.h"
#include "core/status.h"

namespace sluice::clickhouse {

// Appends to `out` one Native block (HTTP form: no BlockInfo) holding the `rows` RowBinary
// rows in `bytes`, whose columns are `columns` (names and the server's types, in order).
// InvalidArgument when the bytes do not hold exactly that many rows of those types.
Status RowBinaryToNative(const std::vector<ColumnBinding>& columns, std::string_view bytes,
                         uint64_t rows, std::string* out);

}  // namespace sluice::clickhouse
