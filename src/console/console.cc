#include "console/console.h"

#include <string>

#include "console/assets.h"
#include "core/cat.h"
#include "core/text.h"

namespace sluice::console {
namespace {

// The page runs only its own script and style and talks only to this listener.
constexpr std::string_view kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

void Secure(receivers::HttpAnswer* a) {
  a->headers = {{"Content-Security-Policy", std::string(kPolicy)},
                {"X-Content-Type-Options", "nosniff"},
                {"X-Frame-Options", "DENY"},
                {"Referrer-Policy", "no-referrer"},
                // Small files, and a server upgrade changes them: always asked again.
                {"Cache-Control", "no-cache"}};
}

void Text(int status, std::string body, receivers::HttpAnswer* a) {
  a->status = status;
  a->content_type = "text/plain; charset=utf-8";
  a->body = std::move(body);
  Secure(a);
}

}  // namespace

bool ServeConsole(std::string_view method, std::string_view path, receivers::HttpAnswer* a) {
  if (path != "/ui" && !path.starts_with("/ui/")) return false;
  if (method != "GET" && method != "HEAD") {
    Text(405, Cat(method, " is not served on ", path, " (GET, HEAD)\n"), a);
    a->headers.emplace_back("Allow", "GET, HEAD");
    return true;
  }
  if (path == "/ui") {
    Text(308, "the console is at /ui/\n", a);
    a->headers.emplace_back("Location", "/ui/");
    return true;
  }
  if (path == "/ui/templates/") {
    std::string list = "[";
    for (const Asset& f : Assets()) {
      if (!f.path.starts_with("/ui/templates/")) continue;
      if (list.size() > 1) list += ",";
      std::string_view name = f.path.substr(std::string_view("/ui/templates/").size());
      name.remove_suffix(std::string_view(".json").size());
      AppendJsonString(name, &list);
    }
    list += "]";
    a->status = 200;
    a->content_type = "application/json";
    a->body = std::move(list);
    Secure(a);
    return true;
  }
  const std::string_view want = path == "/ui/" ? "/ui/index.html" : path;
  for (const Asset& f : Assets()) {
    if (f.path != want) continue;
    a->status = 200;
    a->content_type = std::string(f.content_type);
    a->body = std::string(f.body);
    Secure(a);
    return true;
  }
  Text(404, Cat("no such console file: ", path, "\n"), a);
  return true;
}

}  // namespace sluice::console
