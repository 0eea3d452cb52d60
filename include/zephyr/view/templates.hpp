// zephyr/view/templates.hpp — a set of Mustache templates read from a directory, compiled once and cached.
//
// Each file `NAME.mustache` under the directory is the template `NAME`, e.g. `users/show` for
// `templates/users/show.mustache`; `{{> header}}` in any of them includes `templates/header.mustache`.
//
//     zephyr::view::Templates views{"templates", {.reload = true}};      // reload: re-read changed files
//     app.get("/users/{id:int}", [&views](zephyr::Path<std::int64_t> id) {
//         return zephyr::Html{views.render("users/show", load_user(*id))};
//     });
#pragma once

#include <zephyr/view/template.hpp>

#include <boost/json/value.hpp>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

namespace zephyr::view {

/// How a `Templates` set finds and refreshes its files.
struct templates_options {
    /// Appended to a template's name to find its file.
    std::string extension = ".mustache";
    /// Development mode: before each render, compare every file the render uses (the template and its
    /// partials) with the cached version by modification time and size, and recompile the ones that changed.
    /// Off, a file is read once and kept until the set is destroyed.
    bool reload = false;
    /// Limits for every template of the set; see `limits`.
    zephyr::view::limits limits{};
};

/// Templates under one directory, by name. Names are relative paths with `/` separators and without the
/// extension (`users/show`); they may not be absolute or contain empty, `.` or `..` segments, so a name can
/// never reach a file outside the directory. Partials (`{{> users/row}}`) are names in the same set, relative
/// to the directory, not to the including file; unlike `Template::render`, a missing partial is an error.
///
/// Thread-safe: any number of threads may render at once, also while files are being reloaded. Copies share
/// the cache.
class Templates {
public:
    /// Throws template_error when `directory` is not a directory.
    explicit Templates(std::filesystem::path directory, templates_options options = {});

    /// Renders the template `name` against `data`, with `lambdas` for names the data does not have.
    /// Throws template_error for an invalid name, a missing or unreadable file (naming its path), a template
    /// or partial that does not compile, or a render that exceeds the limits.
    std::string render(std::string_view name, const boost::json::value& data, const lambdas& lambdas = {}) const;

    /// Renders a described struct (or anything else zephyr::json::to_value encodes) as its JSON encoding would
    /// render, reading it in place (see Template::render).
    template <detail::not_json T>
    std::string render(std::string_view name, const T& data, const lambdas& lambdas = {}) const {
        return render_ref(name, detail::ref_of(data), lambdas);
    }

    /// The compiled template `name` (loaded and cached if needed, refreshed when `reload` is on). Rendering
    /// the returned Template directly does not resolve partials from this set; use render() for that.
    /// Throws as render() does.
    Template get(std::string_view name) const;

    /// Compiles every template file under the directory now, so a broken template stops the program at
    /// startup instead of failing its first request. Returns how many were compiled; throws the first
    /// template_error.
    std::size_t preload() const;

    /// The directory given to the constructor.
    const std::filesystem::path& directory() const noexcept;

private:
    std::string render_ref(std::string_view name, detail::data_ref data, const lambdas& lambdas) const;
    struct state;
    std::shared_ptr<state> state_;
};

}  // namespace zephyr::view
