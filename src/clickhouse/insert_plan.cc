#include "clickhouse/insert_plan.h"

#include <cctype>

#include "core/cat.h"

namespace sluice::clickhouse {
namespace {

std::string UnescapeTsv(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char c = s[++i];
      switch (c) {
        case 't': out.push_back('\t'); break;
        case 'n': out.push_back('\n'); break;
        case '0': out.push_back('\0'); break;
        default: out.push_back(c);
      }
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

namespace {
std::string Quote(std::string_view s, char q) {
  std::string out(1, q);
  for (char c : s) {
    if (c == q || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back(q);
  return out;
}
}  // namespace

std::string QuoteIdent(std::string_view name) { return Quote(name, '`'); }
std::string QuoteString(std::string_view s) { return Quote(s, '\''); }

std::string DescribeStatement(std::string_view database, std::string_view table) {
  return Cat("DESCRIBE TABLE ", QuoteIdent(database), ".", QuoteIdent(table),
             " FORMAT TabSeparated");
}

StatusOr<std::vector<TableColumn>> ParseDescribe(const std::string& tsv) {
  std::vector<TableColumn> cols;
  size_t pos = 0;
  while (pos < tsv.size()) {
    size_t eol = tsv.find('\n', pos);
    if (eol == std::string::npos) eol = tsv.size();
    std::string_view line(tsv.data() + pos, eol - pos);
    pos = eol + 1;
    if (line.empty()) continue;
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
      size_t tab = line.find('\t', start);
      parts.push_back(UnescapeTsv(
          line.substr(start, tab == std::string_view::npos ? line.size() - start : tab - start)));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (parts.size() < 2) return absl::InternalError(Cat("unexpected DESCRIBE output: ", line));
    TableColumn c;
    c.name = parts[0];
    auto t = ParseType(parts[1]);
    if (!t.ok()) {
      // Columns of types Sluice cannot write are fine as long as they are not mapped.
      c.type.kind = Type::kTuple;
      c.type.text = parts[1];
      c.default_kind = "UNSUPPORTED";
    } else {
      c.type = std::move(*t);
      if (parts.size() > 2) c.default_kind = parts[2];
    }
    cols.push_back(std::move(c));
  }
  return cols;
}

StatusOr<InsertPlan> BuildPlan(Signal signal, const std::vector<MappingEntry>& mapping,
                               const std::vector<TableColumn>& table, const std::string& database,
                               const std::string& table_name, std::vector<bool>* used,
                               std::span<const otlp::FieldInfo> outputs) {
  InsertPlan plan;
  if (used) used->assign(mapping.size(), false);
  const std::string where = Cat(database, ".", table_name);
  auto find = [&](const std::string& name) -> const TableColumn* {
    for (const TableColumn& c : table)
      if (c.name == name) return &c;
    return nullptr;
  };
  auto add = [&](ColumnBinding b, const TableColumn& col) -> Status {
    if (col.default_kind == "MATERIALIZED" || col.default_kind == "ALIAS")
      return absl::FailedPreconditionError(Cat("column '", col.name, "' of ", where, " is ",
                                               col.default_kind, " and cannot be inserted"));
    if (col.default_kind == "UNSUPPORTED")
      return absl::FailedPreconditionError(Cat("column '", col.name, "' of ", where, " has type ",
                                               col.type.text, ", which Sluice cannot write"));
    for (const ColumnBinding& existing : plan.columns)
      if (existing.column == col.name)
        return absl::FailedPreconditionError(Cat("column '", col.name, "' is mapped twice"));
    b.column = col.name;
    b.type = col.type;
    Status s = CheckCompatible(b);
    if (!s.ok()) return absl::FailedPreconditionError(std::string(s.message()));
    plan.columns.push_back(std::move(b));
    return absl::OkStatus();
  };

  for (size_t mi = 0; mi < mapping.size(); ++mi) {
    const MappingEntry& m = mapping[mi];
    if (!m.column_type.empty() && m.column_type.rfind("Nested", 0) != 0) {
      auto declared = ParseType(m.column_type);
      if (!declared.ok())
        return absl::InvalidArgumentError(
            Cat("mapping for '", m.name, "': ", std::string(declared.status().message())));
    }
    auto path = otlp::ResolvePath(signal, m.name, outputs);
    if (!path.ok()) return absl::InvalidArgumentError(std::string(path.status().message()));
    if (const TableColumn* col = find(m.column_name)) {
      if (used) (*used)[mi] = true;
      ColumnBinding b;
      b.path = *path;
      Status s = add(std::move(b), *col);
      if (!s.ok()) return s;
      continue;
    }
    // A Nested column appears in the table as `name.sub` Array columns.
    const std::string prefix = m.column_name + ".";
    bool any = false;
    for (const TableColumn& col : table) {
      if (col.name.rfind(prefix, 0) != 0) continue;
      any = true;
      const std::string sub = col.name.substr(prefix.size());
      std::string sub_lower;
      for (char c : sub)
        sub_lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      ColumnBinding b;
      b.path = *path;
      const otlp::FieldInfo& f = *path->field;
      if (f.element != otlp::StructKind::kNone && !path->keyed() && path->member < 0) {
        b.path.member = otlp::FindMember(f.element, sub);
        if (b.path.member < 0)
          return absl::FailedPreconditionError(
              Cat("Nested column '", col.name, "' matches no member of '", m.name, "'"));
        b.part = Part::kMember;
      } else if (f.type == otlp::FlatType::kMap && !path->keyed()) {
        if (sub_lower == "key" || sub_lower == "keys")
          b.part = Part::kMapKeys;
        else if (sub_lower == "value" || sub_lower == "values")
          b.part = Part::kMapValues;
        else
          return absl::FailedPreconditionError(
              Cat("Nested column '", col.name, "' of a map must be named key(s) or value(s)"));
      } else {
        return absl::FailedPreconditionError(
            Cat("field '", m.name, "' cannot fill Nested column '", m.column_name, "'"));
      }
      Status s = add(std::move(b), col);
      if (!s.ok()) return s;
    }
    if (any && used) (*used)[mi] = true;
    if (!any && used) continue;
    if (!any)
      return absl::FailedPreconditionError(Cat("column '", m.column_name, "' (mapped from '",
                                               m.name, "') does not exist in ", where));
  }
  if (plan.columns.empty()) return absl::InvalidArgumentError("sink mapping is empty");
  std::string cols;
  for (const ColumnBinding& b : plan.columns) {
    if (!cols.empty()) cols += ", ";
    cols += QuoteIdent(b.column);
  }
  plan.insert_into =
      Cat("INSERT INTO ", QuoteIdent(database), ".", QuoteIdent(table_name), " (", cols, ")");
  return plan;
}

}  // namespace sluice::clickhouse
