// zephyr/view/template.hpp — Mustache templates (spec v1.3): compile once, render many times.
//
// A template is compiled from text once, then rendered against JSON data or a described struct. Compiling
// checks the whole template and throws template_error with the line and column of the first problem:
//
//     auto page = zephyr::view::Template::compile("<h1>{{title}}</h1>{{#items}}<li>{{.}}</li>{{/items}}");
//     std::string html = page.render({{"title", "Tea & cake"}, {"items", {"green", "black"}}});
//     // <h1>Tea &amp; cake</h1><li>green</li><li>black</li>
//
// Supported: escaped `{{name}}` and raw `{{{name}}}` / `{{& name}}` interpolation, dotted names, `{{.}}`,
// sections `{{#name}}...{{/name}}`, inverted sections `{{^name}}...{{/name}}`, comments `{{! ... }}`,
// partials `{{> name}}`, set delimiters `{{=<% %>=}}`, standalone lines and lambdas. See docs/templates.md.
#pragma once

#include <zephyr/json/json.hpp>
#include <zephyr/view/detail/data.hpp>

#include <boost/json/value.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace zephyr::view {

/// A template that does not compile (unclosed or mismatched section, unclosed tag, bad delimiters, malformed
/// name), a render that went past a limit (see `limits`), or a template file that cannot be found or read.
/// what() is `name:line:column: message`, or `name: message` when there is no position, e.g.
/// `templates/users/show.mustache:4:1: closing tag '{{/item}}' does not match the open section 'items'
/// (opened at line 2, column 1)`.
class template_error : public std::runtime_error {
public:
    /// `name` is the template's name (a file path for template files, `<inline>` when compiled without a
    /// name); `line` and `column` are 1-based, or 0 when the error has no position in a template.
    template_error(std::string name, std::size_t line, std::size_t column, std::string message);

    /// The template the error is in.
    const std::string& name() const noexcept { return name_; }
    /// 1-based line of the tag at fault, or 0.
    std::size_t line() const noexcept { return line_; }
    /// 1-based column (in bytes) of the tag at fault, or 0.
    std::size_t column() const noexcept { return column_; }
    /// The message without the location prefix.
    const std::string& message() const noexcept { return message_; }

private:
    std::string name_;
    std::size_t line_ = 0;
    std::size_t column_ = 0;
    std::string message_;
};

/// Bounds that keep a hostile or mistaken template from exhausting the stack, memory or time. A template
/// carries the limits it was compiled with; a render uses those of the template it started from.
struct limits {
    /// How deep sections may nest in one template, and how deep sections, partials and lambda results may
    /// nest while rendering (a partial that includes itself stops here with a template_error).
    std::size_t max_depth = 128;
    /// The most bytes one render may produce.
    std::size_t max_output = std::size_t{64} * 1024 * 1024;
    /// The most tags and text pieces one render may visit, so nested loops over large lists end.
    std::size_t max_steps = 10'000'000;
};

namespace detail {
template <class F>
concept section_function = std::is_invocable_r_v<std::string, F&, std::string_view>;
template <class F>
concept plain_function = std::is_invocable_r_v<std::string, F&> && !std::is_invocable_v<F&, std::string_view>;
/// Data that is not already JSON, to convert with zephyr::json::to_value.
template <class T>
concept not_json = !std::is_convertible_v<const T&, boost::json::value>;
}  // namespace detail

/// A function the data cannot hold: bound by name in a `lambdas` map and used as `{{name}}` or
/// `{{#name}}text{{/name}}`.
///
/// - In a section, it receives the section's unprocessed text (`"text"` above; when the opening and closing
///   tags stand alone on their lines, without those lines) and returns template text, which is rendered with
///   the delimiters in force at the section, against the current context.
/// - In an interpolation it receives an empty string; its result is rendered with the default delimiters and
///   inserted, HTML-escaped for `{{name}}` and as-is for `{{{name}}}`.
///
/// A lambda may also take no argument at all. It is called on each use and never cached. Renders from several
/// threads call it concurrently, so it must be thread-safe when the template is shared.
class lambda {
public:
    /// From a callable taking the section text, `std::string(std::string_view)`.
    template <detail::section_function F>
    lambda(F f) : fn_{std::move(f)} {}  // NOLINT(google-explicit-constructor): lambdas{{"x", [] {...}}}

    /// From a callable taking nothing, `std::string()`.
    template <detail::plain_function F>
    lambda(F f)  // NOLINT(google-explicit-constructor)
        : fn_{[f = std::move(f)](std::string_view) mutable { return std::string(f()); }} {}

    /// Calls the function with the section text ("" for an interpolation).
    std::string operator()(std::string_view section_text) const { return fn_(section_text); }

private:
    std::function<std::string(std::string_view)> fn_;
};

/// Lambdas by the name used in the template. A name is looked up here only when no context on the stack has
/// its first part, so data always wins over a lambda of the same name.
using lambdas = std::map<std::string, lambda, std::less<>>;

class Template;

/// Partials by name, for `{{> name}}` in `Template::render`. A partial that is not in the map renders as
/// nothing, as the specification requires.
using partials = std::map<std::string, Template, std::less<>>;

/// `text` with `&`, `<`, `>`, `"` and `'` replaced by `&amp;`, `&lt;`, `&gt;`, `&quot;` and `&#39;`: what
/// `{{name}}` inserts. Safe in element content and in quoted attribute values.
std::string escape_html(std::string_view text);

namespace detail {
struct compiled;
struct access;
}  // namespace detail

/// A compiled Mustache template. Immutable and cheap to copy (copies share the compiled form), so one
/// template can be rendered from several threads at once.
class Template {
public:
    /// The empty template, which renders as "".
    Template();

    /// Compiles `source`. `name` appears in error messages (`<inline>` when empty). Throws template_error,
    /// with the line and column of the tag at fault, for an unclosed tag (`{{name` without `}}`), an
    /// unclosed section, a closing tag that does not match the open section or has none, an empty or
    /// malformed name (`{{}}`, `{{a b}}`, `{{a..b}}`), a malformed set-delimiter tag, or sections nested
    /// deeper than `limits.max_depth`.
    static Template compile(std::string_view source, std::string name = {}, const limits& limits = {});

    /// Renders against `data`, the bottom of the context stack. `{{> name}}` looks in `partials` (a missing
    /// one renders as nothing) and names the data does not have look in `lambdas`. Throws template_error when
    /// a limit is exceeded or a lambda returns text that does not compile, and whatever a lambda throws.
    std::string render(const boost::json::value& data, const partials& partials = {},
                       const lambdas& lambdas = {}) const;

    /// Renders a described struct (or anything else zephyr::json::to_value encodes) exactly as its JSON
    /// encoding would render: members are keys, std::vector members are lists, empty std::optional members are
    /// null. Structs, vectors, optionals, strings, numbers and enums are read in place, with no JSON copy of the
    /// data; other types (time points, maps) are converted to JSON when a tag reaches them. `data` must not
    /// change during the render.
    template <detail::not_json T>
    std::string render(const T& data, const partials& partials = {}, const lambdas& lambdas = {}) const {
        return render_ref(detail::ref_of(data), partials, lambdas);
    }

    /// The name given to compile(), or the file path for templates loaded by `Templates`.
    const std::string& name() const noexcept;

private:
    friend struct detail::access;
    explicit Template(std::shared_ptr<const detail::compiled> impl);
    std::string render_ref(detail::data_ref data, const partials& partials, const lambdas& lambdas) const;

    std::shared_ptr<const detail::compiled> impl_;
};

}  // namespace zephyr::view
