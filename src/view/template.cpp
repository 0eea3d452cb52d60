#include <zephyr/view/template.hpp>

#include "view/compiled.hpp"

#include <fmt/format.h>

#include <utility>

namespace zephyr::view {
namespace {

std::string format_error(const std::string& name, std::size_t line, std::size_t column, const std::string& message) {
    if (line == 0) return fmt::format("{}: {}", name, message);
    return fmt::format("{}:{}:{}: {}", name, line, column, message);
}

// `{{> name}}` from a map of compiled templates; a name that is not there renders as nothing.
class map_source final : public detail::partial_source {
public:
    explicit map_source(const partials& p) : partials_{p} {}
    const detail::compiled* find(std::string_view name) override;

private:
    const partials& partials_;
};

}  // namespace

template_error::template_error(std::string name, std::size_t line, std::size_t column, std::string message)
    : std::runtime_error{format_error(name, line, column, message)},
      name_{std::move(name)},
      line_{line},
      column_{column},
      message_{std::move(message)} {}

void detail::append_escaped(std::string& out, std::string_view text) {
    std::size_t plain = 0;  // start of the run of characters that need no escaping
    for (std::size_t i = 0; i < text.size(); ++i) {
        std::string_view entity;
        switch (text[i]) {
            case '&':
                entity = "&amp;";
                break;
            case '<':
                entity = "&lt;";
                break;
            case '>':
                entity = "&gt;";
                break;
            case '"':
                entity = "&quot;";
                break;
            case '\'':
                entity = "&#39;";
                break;
            default:
                continue;
        }
        out.append(text.substr(plain, i - plain));
        out.append(entity);
        plain = i + 1;
    }
    out.append(text.substr(plain));
}

std::string escape_html(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    detail::append_escaped(out, text);
    return out;
}

Template::Template() {
    static const std::shared_ptr<const detail::compiled> empty = detail::compile({}, {}, {});
    impl_ = empty;
}

Template::Template(std::shared_ptr<const detail::compiled> impl) : impl_{std::move(impl)} {}

Template Template::compile(std::string_view source, std::string name, const limits& limits) {
    return Template{detail::compile(source, std::move(name), limits)};
}

std::string Template::render(const boost::json::value& data, const partials& partials, const lambdas& lambdas) const {
    map_source source{partials};
    return detail::render(*impl_, data, source, lambdas);
}

const std::string& Template::name() const noexcept {
    return impl_->name;
}

const detail::compiled* map_source::find(std::string_view name) {
    auto it = partials_.find(name);
    return it == partials_.end() ? nullptr : detail::access::of(it->second).get();
}

}  // namespace zephyr::view
