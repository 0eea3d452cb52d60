// Template sets over a directory: names and partials, caching, reload in development, missing files, path
// traversal, concurrent renders, and use from a handler.
#include <zephyr/testing.hpp>
#include <zephyr/view/templates.hpp>
#include <zephyr/zephyr.hpp>

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

namespace fs = std::filesystem;
namespace view = zephyr::view;
using namespace std::chrono_literals;

namespace {

class template_dir : public ::testing::Test {
protected:
    void SetUp() override {
        static int n = 0;
        root_ = fs::temp_directory_path() / ("zephyr-view-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        fs::remove_all(root_);
        dir_ = root_ / "templates";
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(root_); }

    // Writes `text` to `rel` under the template directory. A later write gets a later modification time even
    // on file systems with coarse timestamps.
    void write(const std::string& rel, std::string_view text) {
        fs::path p = dir_ / rel;
        fs::create_directories(p.parent_path());
        bool existed = fs::exists(p);
        fs::file_time_type before = existed ? fs::last_write_time(p) : fs::file_time_type{};
        std::ofstream{p, std::ios::binary} << text;
        if (existed) fs::last_write_time(p, before + 2s);
    }

    static boost::json::value data(std::string_view json) { return boost::json::parse(json); }

    // The template_error `f` throws.
    template <class F>
    static view::template_error error_of(F f) {
        try {
            f();
        } catch (const view::template_error& e) {
            return e;
        }
        ADD_FAILURE() << "no template_error";
        return view::template_error{"", 0, 0, ""};
    }

    fs::path root_;
    fs::path dir_;
};

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

TEST_F(template_dir, renders_files_by_name_with_partials_from_the_set) {
    write("layout/header.mustache", "<h1>{{title}}</h1>\n");
    write("users/row.mustache", "<li>{{name}}</li>\n");
    write("users/index.mustache", "{{> layout/header}}\n<ul>\n  {{#users}}\n  {{> users/row}}\n  {{/users}}\n</ul>\n");
    view::Templates views{dir_};
    EXPECT_EQ(views.render("users/index", data(R"({"title":"People","users":[{"name":"A"},{"name":"B"}]})")),
              "<h1>People</h1>\n<ul>\n  <li>A</li>\n  <li>B</li>\n</ul>\n");
    EXPECT_EQ(views.render("users/row.mustache", data(R"({"name":"C"})")), "<li>C</li>\n");  // extension optional
    EXPECT_EQ(views.directory(), dir_);
}

TEST_F(template_dir, another_extension) {
    write("page.html", "[{{> part}}]");
    write("part.html", "{{v}}");
    view::Templates views{dir_, {.extension = ".html"}};
    EXPECT_EQ(views.render("page", data(R"({"v":1})")), "[1]");
}

TEST_F(template_dir, without_reload_a_file_is_read_once) {
    write("page.mustache", "old {{v}}");
    view::Templates views{dir_};
    EXPECT_EQ(views.render("page", data(R"({"v":1})")), "old 1");
    write("page.mustache", "new {{v}}");
    EXPECT_EQ(views.render("page", data(R"({"v":1})")), "old 1");
    EXPECT_EQ(views.get("page").render(data(R"({"v":2})")), "old 2");
}

TEST_F(template_dir, reload_recompiles_changed_templates_and_partials) {
    write("page.mustache", "A {{> part}}");
    write("part.mustache", "a{{v}}");
    view::Templates views{dir_, {.reload = true}};
    EXPECT_EQ(views.render("page", data(R"({"v":1})")), "A a1");

    write("page.mustache", "B {{> part}}");
    EXPECT_EQ(views.render("page", data(R"({"v":1})")), "B a1");

    write("part.mustache", "b{{v}}!");
    EXPECT_EQ(views.render("page", data(R"({"v":2})")), "B b2!");
    EXPECT_EQ(views.get("part").render(data(R"({"v":3})")), "b3!");

    // A file that breaks is reported; fixing it is picked up again.
    write("part.mustache", "{{#v}}");
    auto e = error_of([&] { views.render("page", data("{}")); });
    EXPECT_EQ(e.name(), (dir_ / "part.mustache").string());
    EXPECT_EQ(e.line(), 1u);
    write("part.mustache", "fixed");
    EXPECT_EQ(views.render("page", data("{}")), "B fixed");

    // A deleted file is missing again, and found once it is back.
    fs::remove(dir_ / "part.mustache");
    EXPECT_THROW(views.render("page", data("{}")), view::template_error);
    write("part.mustache", "back");
    EXPECT_EQ(views.render("page", data("{}")), "B back");
}

TEST_F(template_dir, reload_notices_a_change_of_size_with_the_same_time) {
    write("page.mustache", "one");
    view::Templates views{dir_, {.reload = true}};
    EXPECT_EQ(views.render("page", data("{}")), "one");
    auto t = fs::last_write_time(dir_ / "page.mustache");
    std::ofstream{dir_ / "page.mustache"} << "three";
    fs::last_write_time(dir_ / "page.mustache", t);
    EXPECT_EQ(views.render("page", data("{}")), "three");
}

TEST_F(template_dir, a_missing_template_names_its_path) {
    view::Templates views{dir_};
    auto e = error_of([&] { views.render("users/show", data("{}")); });
    EXPECT_EQ(e.name(), (dir_ / "users/show.mustache").string());
    EXPECT_EQ(e.line(), 0u);
    EXPECT_EQ(std::string{e.what()},
              (dir_ / "users/show.mustache").string() + ": template 'users/show' not found (no such file)");
    fs::create_directories(dir_ / "folder.mustache");
    EXPECT_TRUE(contains(error_of([&] { views.get("folder"); }).what(), "is not a regular file"));
}

TEST_F(template_dir, a_missing_partial_is_an_error_at_its_tag) {
    write("page.mustache", "<body>\n  {{> footer}}\n</body>\n");
    view::Templates views{dir_};
    auto e = error_of([&] { views.render("page", data("{}")); });
    EXPECT_EQ(e.name(), (dir_ / "page.mustache").string());
    EXPECT_EQ(e.line(), 2u);
    EXPECT_EQ(e.column(), 3u);
    EXPECT_TRUE(contains(e.message(),
                         "partial 'footer': " + (dir_ / "footer.mustache").string() + ": template 'footer' not found"))
        << e.what();
}

TEST_F(template_dir, compile_errors_name_the_file_and_position) {
    write("bad.mustache", "ok\n{{#list}}\n{{/lst}}\n");
    view::Templates views{dir_};
    auto e = error_of([&] { views.render("bad", data("{}")); });
    EXPECT_EQ(std::string{e.what()}, (dir_ / "bad.mustache").string() +
                                         ":3:1: closing tag '{{/lst}}' does not match the open section 'list' "
                                         "(opened at line 2, column 1)");
}

TEST_F(template_dir, names_that_could_leave_the_directory_are_rejected) {
    std::ofstream{root_ / "secret.mustache"} << "SECRET";
    write("ok.mustache", "fine");
    write("sub/ok.mustache", "fine");
    view::Templates views{dir_};
    for (std::string_view name : {"../secret", "sub/../../secret", "/etc/passwd", "./ok", "sub//ok", "sub/./ok", "..",
                                  "sub/..", "", "sub\\..\\..\\secret", "ok/"}) {
        auto e = error_of([&] { views.render(name, data("{}")); });
        EXPECT_TRUE(contains(e.message(), "invalid template name")) << name << ": " << e.what();
        EXPECT_FALSE(contains(e.what(), "SECRET"));
    }
    EXPECT_THROW(views.render(std::string_view{"ok\0x", 4}, data("{}")), view::template_error);

    // Partials go through the same check.
    write("sneaky.mustache", "{{> ../secret}}");
    auto e = error_of([&] { views.render("sneaky", data("{}")); });
    EXPECT_TRUE(contains(e.message(), "partial '../secret': ")) << e.what();
    EXPECT_TRUE(contains(e.message(), "invalid template name '../secret'")) << e.what();
    EXPECT_EQ(views.render("sub/ok", data("{}")), "fine");
}

TEST_F(template_dir, the_directory_must_exist) {
    auto e = error_of([&] { view::Templates{root_ / "nope"}; });
    EXPECT_TRUE(contains(e.what(), "not a directory")) << e.what();
    std::ofstream{root_ / "file"} << "x";
    EXPECT_THROW(view::Templates{root_ / "file"}, view::template_error);
}

TEST_F(template_dir, preload_compiles_every_file_and_reports_the_first_error) {
    write("a.mustache", "{{a}}");
    write("deep/er/b.mustache", "{{b}}");
    write("notes.txt", "{{#ignored");
    view::Templates views{dir_};
    EXPECT_EQ(views.preload(), 2u);
    write("deep/broken.mustache", "{{#x}}");
    auto e = error_of([&] { views.preload(); });
    EXPECT_EQ(e.name(), (dir_ / "deep/broken.mustache").string());
}

TEST_F(template_dir, copies_share_the_cache) {
    write("page.mustache", "v1");
    view::Templates views{dir_};
    view::Templates copy = views;
    EXPECT_EQ(views.render("page", data("{}")), "v1");
    write("page.mustache", "v2");
    EXPECT_EQ(copy.render("page", data("{}")), "v1");
}

TEST_F(template_dir, any_encodable_data_and_lambdas) {
    write("list.mustache", "{{#.}}{{#shout}}{{name}}{{/shout}} {{/.}}");
    view::Templates views{dir_};
    view::lambdas fns{{"shout", [](std::string_view text) { return std::string{text} + "!"; }}};
    EXPECT_EQ(
        views.render("list", std::vector<std::map<std::string, std::string>>{{{"name", "a"}}, {{"name", "b"}}}, fns),
        "a! b! ");
}

// Two threads render the same templates while a third keeps rewriting a partial; run under ASan and TSan-like
// scrutiny, every result must be one of the two versions.
TEST_F(template_dir, concurrent_renders_while_files_change) {
    write("page.mustache", "<{{> part}}>");
    write("part.mustache", "one {{v}}");
    view::Templates views{dir_, {.reload = true}};
    auto shared = view::Template::compile("{{#l}}{{.}}{{/l}}");
    std::atomic<bool> stop{false};
    std::atomic<int> bad{0};

    auto reader = [&] {
        auto d = data(R"({"v":7,"l":[1,2,3]})");
        for (int i = 0; i < 400; ++i) {
            try {
                std::string out = views.render("page", d);
                if (out != "<one 7>" && out != "<two 7>") ++bad;
            } catch (const view::template_error&) {
                ++bad;
            }
            if (shared.render(d) != "123") ++bad;
        }
    };
    std::thread writer{[&] {
        int n = 0;
        while (!stop) {
            // Write a complete new file, then rename it over the old one, as editors that save atomically do.
            fs::path tmp = dir_ / "part.tmp";
            std::ofstream{tmp} << (n % 2 == 0 ? "two {{v}}" : "one {{v}}");
            fs::last_write_time(tmp, fs::file_time_type::clock::now() + std::chrono::seconds{++n});
            fs::rename(tmp, dir_ / "part.mustache");
            std::this_thread::sleep_for(1ms);
        }
    }};
    std::thread a{reader};
    std::thread b{reader};
    a.join();
    b.join();
    stop = true;
    writer.join();
    EXPECT_EQ(bad.load(), 0);
}

// [app]
struct profile {
    std::string name{};
    std::vector<std::string> roles{};
};
BOOST_DESCRIBE_STRUCT(profile, (), (name, roles))

void add_profile_pages(zephyr::App& app, zephyr::view::Templates views) {
    app.get("/users/{id:int}", [views](zephyr::Path<std::int64_t> id) {
        profile p{.name = "user " + std::to_string(*id), .roles = {"admin", "<dev>"}};
        return zephyr::Html{views.render("users/show", p)};
    });
}
// [app]

TEST_F(template_dir, a_handler_returns_a_rendered_page) {
    write("layout/head.mustache", "<title>{{name}}</title>\n");
    write("users/show.mustache",
          "{{> layout/head}}\n"
          "<h1>{{name}}</h1>\n"
          "<ul>{{#roles}}<li>{{.}}</li>{{/roles}}</ul>\n");
    std::filesystem::path template_dir = dir_;
    bool development = true;
    zephyr::App app;
    // [setup]
    zephyr::view::Templates views{template_dir, {.reload = development}};
    views.preload();  // a broken template stops the program here, not at its first request
    add_profile_pages(app, views);
    // [setup]
    zephyr::testing::Client client{app};
    auto r = client.get("/users/7");
    EXPECT_EQ(r.status(), 200);
    EXPECT_TRUE(r.header("Content-Type").starts_with("text/html")) << r.header("Content-Type");
    EXPECT_EQ(r.text(), "<title>user 7</title>\n<h1>user 7</h1>\n<ul><li>admin</li><li>&lt;dev&gt;</li></ul>\n");
}

TEST_F(template_dir, an_embedded_template_needs_no_directory) {
    // What an application-generated page (an error page, say) does: one template string compiled once.
    static const auto page = view::Template::compile("<pre>{{message}}</pre>", "error-page");
    EXPECT_EQ(page.render(data(R"({"message":"<oops>"})")), "<pre>&lt;oops&gt;</pre>");
}
