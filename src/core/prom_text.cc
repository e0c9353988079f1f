#include "core/prom_text.h"

#include <charconv>
#include <cmath>

namespace sluice {
namespace {

void AppendEscaped(std::string_view v, bool help, std::string* out) {
  for (char c : v) {
    if (c == '\\')
      out->append("\\\\");
    else if (c == '\n')
      out->append("\\n");
    else if (c == '"' && !help)
      out->append("\\\"");
    else
      out->push_back(c);
  }
}

void AppendDouble(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("NaN");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
  } else {
    // Plain decimals where they are short (0.0005, not 5e-04), as Prometheus clients write.
    char buf[400];
    const double a = std::fabs(v);
    auto r = a == 0 || (a >= 1e-6 && a < 1e15)
                 ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
                 : std::to_chars(buf, buf + sizeof buf, v);
    out->append(buf, r.ptr);
  }
}

void AppendUint(uint64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

}  // namespace

void PromText::Family(std::string_view name, std::string_view type, std::string_view help) {
  out_.append("# HELP ").append(name).push_back(' ');
  AppendEscaped(help, true, &out_);
  out_.append("\n# TYPE ").append(name).push_back(' ');
  out_.append(type).push_back('\n');
}

void PromText::Series(std::string_view name, std::string_view suffix, const Labels& labels,
                      const Label* extra) {
  out_.append(name).append(suffix);
  if (labels.empty() && !extra) {
    out_.push_back(' ');
    return;
  }
  out_.push_back('{');
  bool first = true;
  auto one = [&](const Label& l) {
    if (!first) out_.push_back(',');
    first = false;
    out_.append(l.first).append("=\"");
    AppendEscaped(l.second, false, &out_);
    out_.push_back('"');
  };
  for (const Label& l : labels) one(l);
  if (extra) one(*extra);
  out_.append("} ");
}

void PromText::Sample(std::string_view name, const Labels& labels, double value) {
  Series(name, "", labels, nullptr);
  AppendDouble(value, &out_);
  out_.push_back('\n');
}

void PromText::Sample(std::string_view name, const Labels& labels, uint64_t value) {
  Series(name, "", labels, nullptr);
  AppendUint(value, &out_);
  out_.push_back('\n');
}

void PromText::Observations(std::string_view name, const Labels& labels, const Histogram& h) {
  uint64_t cumulative = 0;
  std::string le;
  for (size_t i = 0; i <= h.bounds().size(); ++i) {
    cumulative += h.bucket(i);
    le.clear();
    if (i < h.bounds().size())
      AppendDouble(h.bounds()[i], &le);
    else
      le = "+Inf";
    const Label bound{"le", le};
    Series(name, "_bucket", labels, &bound);
    AppendUint(cumulative, &out_);
    out_.push_back('\n');
  }
  Series(name, "_sum", labels, nullptr);
  AppendDouble(h.sum(), &out_);
  out_.push_back('\n');
  Series(name, "_count", labels, nullptr);
  AppendUint(cumulative, &out_);
  out_.push_back('\n');
}

}  // namespace sluice
