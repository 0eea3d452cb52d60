// Fuzzes Mustache templates: arbitrary text is compiled, then rendered against a fixed context with partials
// and lambdas, both as the page itself and as a partial included inline and standalone (indented). Only
// template_error may escape, always with a position; small limits keep every render short.
#include "fuzz_check.hpp"

#include <zephyr/view/template.hpp>

#include <boost/json/parse.hpp>

#include <string>

namespace {

namespace view = zephyr::view;

constexpr view::limits fuzz_limits{.max_depth = 48, .max_output = 256 * 1024, .max_steps = 100'000};

const boost::json::value& context() {
    static const boost::json::value v = boost::json::parse(R"({
        "name": "Ada <&> \"Lovelace\" 'x'", "n": 42, "neg": -1, "pi": 3.25, "yes": true, "no": false, "nil": null,
        "empty": "", "zero": 0, "list": [1, "two", {"name": "three"}, [4, 5]], "none": [],
        "user": {"name": "Grace", "roles": ["admin", "dev"], "address": {"city": "Paris"}},
        "kids": [{"name": "a", "kids": [{"name": "a1", "kids": []}]}, {"name": "b", "kids": []}]
    })");
    return v;
}

const view::partials& fixed_partials() {
    static const view::partials p{
        {"item", view::Template::compile("<li>{{name}}</li>\n", "item", fuzz_limits)},
        {"tree", view::Template::compile("{{name}}\n  {{#kids}}\n  {{> tree}}\n  {{/kids}}\n", "tree", fuzz_limits)},
        {"loop", view::Template::compile("{{> loop}}", "loop", fuzz_limits)},
    };
    return p;
}

const view::lambdas& fixed_lambdas() {
    static const view::lambdas l{
        {"echo", [](std::string_view text) { return std::string{text}; }},
        {"wrap", [](std::string_view text) { return "<b>" + std::string{text} + "{{name}}</b>"; }},
        {"tag", [] { return std::string{"{{name}} {{#user}}{{name}}{{/user}}"}; }},
        {"broken", [] { return std::string{"{{#unclosed}}"}; }},
    };
    return l;
}

void render_checked(const view::Template& t, const view::partials& partials) {
    try {
        std::string out = t.render(context(), partials, fixed_lambdas());
        FUZZ_CHECK(out.size() <= fuzz_limits.max_output);
    } catch (const view::template_error& e) {
        FUZZ_CHECK(e.line() >= 1 && e.column() >= 1);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text{reinterpret_cast<const char*>(data), size};
    view::Template t;
    try {
        t = view::Template::compile(text, "fuzz", fuzz_limits);
    } catch (const view::template_error& e) {
        FUZZ_CHECK(e.line() >= 1 && e.column() >= 1);
        FUZZ_CHECK(e.name() == "fuzz");
        return 0;
    }
    render_checked(t, fixed_partials());

    // Text without an opening delimiter is copied unchanged.
    if (text.find("{{") == std::string_view::npos) {
        FUZZ_CHECK(t.render(context(), fixed_partials(), fixed_lambdas()) == text);
    }

    // The same text as a partial, inline and standalone.
    view::partials with_input = fixed_partials();
    with_input.emplace("input", t);
    static const view::Template page = view::Template::compile(
        "[{{> input}}]\n  {{> input}}\n{{#list}}\n    {{> input}}\n{{/list}}\n", "page", fuzz_limits);
    render_checked(page, with_input);
    return 0;
}
