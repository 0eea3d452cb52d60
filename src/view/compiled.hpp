// The compiled form of a Mustache template, shared by Template and Templates.
#pragma once

#include <zephyr/view/detail/data.hpp>
#include <zephyr/view/template.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zephyr::view::detail {

enum class node_kind : std::uint8_t {
    text,      // literal text
    escaped,   // {{name}}
    raw,       // {{{name}}} and {{&name}}
    section,   // {{#name}}...{{/name}}
    inverted,  // {{^name}}...{{/name}}
    partial,   // {{>name}}
};

struct node {
    node_kind kind = node_kind::text;
    std::uint32_t line = 0;  // of the tag, 1-based
    std::uint32_t column = 0;
    std::string text{};               // text: the literal; tags: the name as written (trimmed)
    std::vector<std::string> path{};  // the name split at dots; empty for "."
    std::vector<node> children{};     // sections
    std::size_t raw_begin = 0;        // sections: the unprocessed content, as offsets into the source
    std::size_t raw_end = 0;
    std::string open{};  // sections: the delimiters in force, for a lambda's result
    std::string close{};
    std::string indent{};     // partials: the whitespace before a standalone tag
    bool standalone = false;  // partials
};

struct compiled {
    std::string name{};
    std::string source{};
    view::limits limits{};
    std::vector<node> nodes{};
    /// The size of the largest output rendered so far (up to a bound): what the next render reserves, so a page
    /// is built without growing its buffer step by step.
    mutable std::atomic<std::size_t> output_hint{0};
};

/// Compiles `source` starting with the delimiters `open` and `close`. Throws template_error.
std::shared_ptr<const compiled> compile(std::string_view source, std::string name, const view::limits& limits,
                                        std::string_view open = "{{", std::string_view close = "}}");

/// Appends `text` to `out` HTML-escaped (see escape_html).
void append_escaped(std::string& out, std::string_view text);

/// Where `{{> name}}` finds its template during one render.
class partial_source {
public:
    /// The partial `name`, or nullptr to render nothing. May throw template_error; one without a position
    /// is reported at the partial tag. The result must stay valid until the render ends.
    virtual const compiled* find(std::string_view name) = 0;

protected:
    ~partial_source() = default;
};

/// The compiled form behind a Template, and a Template around a compiled form.
struct access {
    static const std::shared_ptr<const compiled>& of(const Template& t) { return t.impl_; }
    static Template make(std::shared_ptr<const compiled> c) { return Template{std::move(c)}; }
};

/// Renders `t` against `data`. Throws template_error, and whatever lambdas throw.
std::string render(const compiled& t, data_ref data, partial_source& partials, const lambdas& lambdas);

}  // namespace zephyr::view::detail
