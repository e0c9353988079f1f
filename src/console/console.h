// Serves the web console (/ui/) from the embedded files: a single page that manages
// pipelines through the REST API alone, with the token the operator enters. Its files are
// public (they hold no data); every API call it makes is authorized as any other.
// Thread-safe.
#pragma once

#include <string_view>

#include "receivers/status_map.h"

namespace sluice::console {

// False: not a console path. Otherwise the answer: the file, a redirect from /ui to /ui/,
// the list of templates (/ui/templates/), 404 or 405.
bool ServeConsole(std::string_view method, std::string_view path, receivers::HttpAnswer* a);

}  // namespace sluice::console
