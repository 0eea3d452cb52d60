// Development error pages: the exception, the request, and the stack where the exception was thrown.
//
// Where an exception was thrown is lost by the time a handler's caller catches it (the stack has unwound), so
// while any app runs in debug mode every `throw` records its call stack first (throw_hook.cpp).
#include "http/debug_page.hpp"

#include <zephyr/core/log.hpp>
#include <zephyr/http/layers/request_id.hpp>
#include <zephyr/view/template.hpp>

#define BACKWARD_HAS_DW 1
#include <backward.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include <cxxabi.h>
#include <dlfcn.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <exception>
#include <vector>
#include <typeinfo>

namespace zephyr::http::detail {
namespace {


// The stacks of the last few exceptions thrown on this thread, keyed by the exception object.
struct thrown {
    void* object = nullptr;
    std::vector<void*> frames;
};
constexpr std::size_t remembered = 8;
thread_local std::array<thrown, remembered> recent;
thread_local std::size_t next_slot = 0;

}  // namespace

std::atomic<int> capturing_throws{0};

void record_throw(void* object) noexcept {
    try {
        backward::StackTrace st;
        st.load_here(64);
        thrown& slot = recent[next_slot++ % remembered];
        slot.object = object;
        slot.frames.clear();
        // The first frames are record() and __cxa_throw; resolve() skips them.
        for (std::size_t i = 0; i < st.size(); ++i) slot.frames.push_back(st[i].addr);
    } catch (...) {
        // No stack for this one; the page says so.
    }
}

namespace {

// libstdc++'s exception_ptr is one pointer to the thrown object; the same pointer __cxa_throw received.
void* object_of(const std::exception_ptr& e) noexcept {
    static_assert(sizeof(std::exception_ptr) == sizeof(void*));
    void* p = nullptr;
    std::memcpy(&p, static_cast<const void*>(&e), sizeof p);
    return p;
}

const std::vector<void*>* frames_of(const std::exception_ptr& e) noexcept {
    void* obj = object_of(e);
    for (const auto& t : recent)
        if (t.object == obj && obj != nullptr) return &t.frames;
    return nullptr;
}

std::string demangle(const char* name) {
    int status = 0;
    char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    std::string out = (status == 0 && d != nullptr) ? d : name;
    std::free(d);
    return out;
}

// Symbolizes with libdw (function, file, line) and reads a few source lines around each frame when the file
// is readable. Frames inside the C++ runtime and this file are left out.
boost::json::array resolve(const std::vector<void*>& frames) {
    boost::json::array out;
    // Loading the debug information is the slow part (about a second for a large binary): keep one resolver.
    static std::mutex mutex;
    static backward::TraceResolver resolver;
    static backward::SnippetFactory snippets;
    std::lock_guard lock{mutex};
    resolver.load_addresses(frames.data(), static_cast<int>(frames.size()));
    bool past_throw = false;
    for (std::size_t i = 0; i < frames.size() && out.size() < 40; ++i) {
        backward::ResolvedTrace t = resolver.resolve(backward::ResolvedTrace{backward::Trace{frames[i], i}});
        const std::string& fn = t.source.function.empty() ? t.object_function : t.source.function;
        if (!past_throw) {
            // Everything up to and including __cxa_throw is this file's own machinery.
            if (fn.find("__cxa_throw") != std::string::npos) past_throw = true;
            continue;
        }
        boost::json::object f;
        f["function"] = fn.empty() ? "??" : fn;
        f["file"] = t.source.filename;
        f["line"] = t.source.line;
        f["object"] = t.object_filename;
        if (!t.source.filename.empty() && t.source.line > 0 && out.size() < 8) {
            boost::json::array lines;
            for (const auto& [n, text] : snippets.get_snippet(t.source.filename, t.source.line, 7))
                lines.push_back(boost::json::object{{"number", n}, {"text", text}, {"current", n == t.source.line}});
            if (!lines.empty()) f["snippet"] = std::move(lines);
        }
        out.push_back(std::move(f));
    }
    return out;
}

constexpr std::string_view page_template = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{type}} at {{method}} {{path}}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header{background:#b3261e;color:#fff;padding:18px 28px}
header h1{font-size:20px;margin:0 0 6px}
header p{margin:0;font-family:ui-monospace,monospace;white-space:pre-wrap}
section{padding:14px 28px}
h2{font-size:15px;margin:18px 0 8px;color:#555;text-transform:uppercase;letter-spacing:.04em}
table{border-collapse:collapse;font-family:ui-monospace,monospace;font-size:13px}
td{padding:2px 12px 2px 0;vertical-align:top}
.frame{background:#fff;border:1px solid #ddd;border-radius:6px;margin:6px 0;padding:8px 12px}
.fn{font-family:ui-monospace,monospace;font-weight:600;word-break:break-all}
.loc{color:#666;font-family:ui-monospace,monospace;font-size:12px}
pre{margin:6px 0 0;font-size:12px;background:#f4f4f4;padding:6px;overflow:auto}
.cur{background:#ffe3e0;display:block}
.note{color:#666}
</style></head><body>
<header><h1>{{type}}</h1><p>{{message}}</p></header>
<section>
<p class="note">Shown because the app runs in debug mode. In production the client gets a plain 500 problem response.</p>
<h2>Request</h2>
<table>
<tr><td>Method</td><td>{{method}}</td></tr>
<tr><td>Target</td><td>{{target}}</td></tr>
{{#route}}<tr><td>Route</td><td>{{route}}</td></tr>{{/route}}
{{#request_id}}<tr><td>Request id</td><td>{{request_id}}</td></tr>{{/request_id}}
{{#remote}}<tr><td>Client</td><td>{{remote}}</td></tr>{{/remote}}
</table>
<h2>Headers</h2>
<table>{{#headers}}<tr><td>{{name}}</td><td>{{value}}</td></tr>{{/headers}}</table>
{{#params.0}}<h2>Path parameters</h2><table>{{#params}}<tr><td>{{name}}</td><td>{{value}}</td></tr>{{/params}}</table>{{/params.0}}
<h2>Where it was thrown</h2>
{{#frames}}<div class="frame"><div class="fn">{{function}}</div>
<div class="loc">{{#file}}{{file}}:{{line}}{{/file}}{{^file}}{{object}}{{/file}}</div>
{{#snippet.0}}<pre>{{#snippet}}<span{{#current}} class="cur"{{/current}}>{{number}}  {{text}}</span>
{{/snippet}}</pre>{{/snippet.0}}</div>
{{/frames}}
{{^frames}}<p class="note">No stack was recorded for this exception (it was not thrown with a throw expression while
debug mode was on, or it was rethrown from another thread).</p>{{/frames}}
</section></body></html>
)";

const view::Template& page() {
    static const view::Template t = view::Template::compile(page_template, "debug page");
    return t;
}

}  // namespace

extern const bool throw_hook_linked;

void enable_throw_traces() noexcept {
    if (throw_hook_linked) capturing_throws.fetch_add(1, std::memory_order_relaxed);
}

std::optional<Response> debug_error_page(const Request& req, std::exception_ptr e) noexcept {
    try {
        std::string type = "unknown exception";
        std::string message;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            type = demangle(typeid(ex).name());
            message = ex.what();
        } catch (...) {
            if (const std::type_info* t = abi::__cxa_current_exception_type()) type = demangle(t->name());
        }
        boost::json::object data;
        data["type"] = type;
        data["message"] = message;
        data["method"] = req.method_name();
        data["target"] = req.target();
        data["path"] = req.path();
        if (req.route() != nullptr) data["route"] = req.route()->pattern;
        if (const auto* id = req.extensions().get<request_id>()) data["request_id"] = id->value;
        data["remote"] = req.remote_address();
        boost::json::array headers, params;
        for (const auto& [k, v] : req.headers()) headers.push_back(boost::json::object{{"name", k}, {"value", v}});
        for (const auto& p : req.params()) params.push_back(boost::json::object{{"name", p.name}, {"value", p.value}});
        data["headers"] = std::move(headers);
        data["params"] = std::move(params);
        const std::vector<void*>* frames = frames_of(e);
        data["frames"] = frames ? resolve(*frames) : boost::json::array{};

        auto accept = req.header("Accept").value_or("");
        if (accept.find("text/html") != std::string_view::npos)
            return Response::html(page().render(boost::json::value(std::move(data))),
                                  status::internal_server_error);
        // API clients keep problem+json, with the exception and the stack as extension members.
        boost::json::object problem{{"type", "about:blank"},
                                    {"title", "Internal Server Error"},
                                    {"status", 500},
                                    {"detail", fmt::format("{}: {}", type, message)},
                                    {"frames", data["frames"]}};
        return Response{status::internal_server_error, boost::json::serialize(problem), "application/problem+json"};
    } catch (...) {
        return std::nullopt;
    }
}

}  // namespace zephyr::http::detail
