// Cat(...): concatenates strings, string_views and integers into a std::string.
// (Debian's Abseil is built with its own string_view, which std::string_view does not
// convert to, so absl::StrCat is not used on string_views.)
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/string_view.h"

namespace sluice {
namespace internal {
inline void CatOne(std::string* out, std::string_view s) { out->append(s); }
inline void CatOne(std::string* out, const char* s) { out->append(s); }
inline void CatOne(std::string* out, absl::string_view s) { out->append(s.data(), s.size()); }
inline void CatOne(std::string* out, const std::string& s) { out->append(s); }
inline void CatOne(std::string* out, char c) { out->push_back(c); }
template <class T>
requires std::is_integral_v<T>
void CatOne(std::string* out, T v) { out->append(std::to_string(v)); }
inline void CatOne(std::string* out, double v) { out->append(std::to_string(v)); }
}  // namespace internal

template <class... A>
std::string Cat(const A&... a) {
  std::string out;
  (internal::CatOne(&out, a), ...);
  return out;
}

}  // namespace sluice
