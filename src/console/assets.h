// The web console's files, embedded in the binary at build time (cmake/embed_assets.cmake):
// ui/* under /ui/ and the example pipelines under /ui/templates/. Immutable; thread-safe.
#pragma once

#include <span>
#include <string_view>

namespace sluice::console {

struct Asset {
  std::string_view path;          // "/ui/app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view body;
};

std::span<const Asset> Assets();

}  // namespace sluice::console
