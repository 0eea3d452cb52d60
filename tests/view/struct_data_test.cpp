// Rendering C++ data in place: described structs, vectors, optionals, enums, numbers and the types that go through
// JSON (time points, maps) must render exactly as their zephyr::json::to_value encoding does, through every kind of
// tag. Also the HTML escaping, checked against a plain reference at every length and position.
#include <zephyr/view/template.hpp>
#include <zephyr/view/templates.hpp>

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace view = zephyr::view;

namespace {

enum class color { red, green };
BOOST_DESCRIBE_ENUM(color, red, green)

struct tag {
    std::string label{};
    bool hot = false;
};
BOOST_DESCRIBE_STRUCT(tag, (), (label, hot))

struct base {
    std::int64_t id = 0;
};
BOOST_DESCRIBE_STRUCT(base, (), (id))

struct article : base {
    std::string title{};
    std::string_view kind{};
    std::vector<tag> tags{};
    std::vector<std::string> words{};
    std::vector<int> counts{};
    std::vector<bool> flags{};
    std::optional<std::string> subtitle{};
    std::optional<tag> featured{};
    std::vector<std::optional<int>> maybe{};
    color hue = color::red;
    double score = 0;
    float ratio = 0;
    std::uint64_t big = 0;
    std::int64_t small = 0;
    unsigned short port = 0;
    bool published = false;
    std::chrono::system_clock::time_point at{};
    std::map<std::string, int> stock{};
    boost::json::value extra{};
};
BOOST_DESCRIBE_STRUCT(article, (base),
                      (title, kind, tags, words, counts, flags, subtitle, featured, maybe, hue, score, ratio, big, small,
                       port, published, at, stock, extra))

article sample() {
    article a;
    a.id = 42;
    a.title = "Tea & <cake>";
    a.kind = "post's";
    a.tags = {{"hot \"stuff\"", true}, {"cold", false}};
    a.words = {"a", "<b>", ""};
    a.counts = {0, 7, -3};
    a.flags = {true, false};
    a.subtitle = "sub";
    a.maybe = {std::nullopt, 5};
    a.hue = color::green;
    a.score = 2.5;
    a.ratio = 0.1F;
    a.big = std::numeric_limits<std::uint64_t>::max();
    a.small = std::numeric_limits<std::int64_t>::min();
    a.port = 8080;
    a.published = true;
    a.at = std::chrono::system_clock::time_point{std::chrono::seconds{1'700'000'000}};
    a.stock = {{"tea", 3}, {"cake", 0}};
    a.extra = boost::json::parse(R"({"n":1,"list":[1,"x",null],"s":"<q>"})");
    return a;
}

// Renders `tmpl` against `data` directly and through its JSON encoding, and checks that both agree.
template <class T>
std::string both(std::string_view tmpl, const T& data, const view::partials& partials = {},
                 const view::lambdas& lambdas = {}) {
    auto t = view::Template::compile(tmpl);
    std::string direct = t.render(data, partials, lambdas);
    std::string via_json = t.render(zephyr::json::to_value(data), partials, lambdas);
    EXPECT_EQ(direct, via_json) << "template: " << tmpl;
    return direct;
}

}  // namespace

TEST(view_struct_data, interpolation_matches_the_json_encoding) {
    const article a = sample();
    EXPECT_EQ(both("{{id}} {{title}} {{{title}}} {{&kind}} {{kind}}", a),
              "42 Tea &amp; &lt;cake&gt; Tea & <cake> post's post&#39;s");
    EXPECT_EQ(both("{{hue}} {{score}} {{ratio}} {{big}} {{small}} {{port}} {{published}}", a),
              "green 2.5 0.10000000149011612 18446744073709551615 -9223372036854775808 8080 true");
    EXPECT_EQ(both("{{at}}|{{subtitle}}|{{featured}}|{{missing}}", a), "2023-11-14T22:13:20Z|sub||");
    both("{{tags}} {{{tags}}} {{words}} {{counts}} {{flags}} {{maybe}} {{stock}} {{extra}} {{{extra}}}", a);
    both("{{.}}", a);
    both("{{{.}}}", a);
}

TEST(view_struct_data, sections_lists_and_dotted_names_match) {
    const article a = sample();
    EXPECT_EQ(both("{{#tags}}[{{label}}{{#hot}}!{{/hot}} {{id}}]{{/tags}}", a),
              "[hot &quot;stuff&quot;! 42][cold 42]");
    EXPECT_EQ(both("{{#words}}<{{.}}>{{/words}}", a), "<a><&lt;b&gt;><>");
    EXPECT_EQ(both("{{#counts}}{{#.}}+{{.}}{{/.}}{{^.}}zero{{/.}}{{/counts}}", a), "zero+7+-3");
    EXPECT_EQ(both("{{#flags}}{{.}},{{/flags}}", a), "true,false,");
    EXPECT_EQ(both("{{#maybe}}({{.}}){{/maybe}}", a), "()(5)");
    EXPECT_EQ(both("{{tags.0.label}}|{{tags.1.hot}}|{{tags.2.label}}|{{tags.x}}|{{words.1}}|{{title.x}}", a),
              "hot &quot;stuff&quot;|false|||&lt;b&gt;|");
    EXPECT_EQ(both("{{stock.tea}} {{#stock}}{{cake}}{{/stock}} {{extra.list.1}} {{extra.s}} {{extra.n}}", a),
              "3 0 x &lt;q&gt; 1");
    EXPECT_EQ(both("{{#featured}}yes{{/featured}}{{^featured}}no{{/featured}}", a), "no");
    EXPECT_EQ(both("{{#subtitle}}<{{.}}>{{/subtitle}}", a), "<sub>");
    EXPECT_EQ(both("{{#extra}}{{n}}{{#list}}[{{.}}]{{/list}}{{/extra}}", a), "1[1][x][]");
    EXPECT_EQ(both("{{#at}}{{.}}{{/at}} {{#hue}}{{.}}{{/hue}}", a), "2023-11-14T22:13:20Z green");
}

TEST(view_struct_data, falsey_values_match) {
    article a;  // every member at its default: 0, "", empty lists, empty optionals
    a.score = std::numeric_limits<double>::quiet_NaN();  // null in JSON
    for (const char* name : {"id", "title", "kind", "tags", "words", "flags", "subtitle", "featured", "hue", "score",
                             "ratio", "big", "small", "port", "published", "at", "stock", "extra", "nothing"}) {
        std::string t = std::string{"{{#"} + name + "}}T{{/" + name + "}}{{^" + name + "}}F{{/" + name + "}}";
        both(t, a);
    }
    EXPECT_EQ(both("{{#score}}T{{/score}}{{^score}}F{{/score}}[{{score}}]", a), "F[]");
    EXPECT_EQ(both("{{#hue}}T{{/hue}}", a), "T");   // "red" is a non-empty string
    EXPECT_EQ(both("{{#stock}}T{{/stock}}", a), "T");  // an object, even an empty one, is truthy
}

TEST(view_struct_data, lambdas_and_partials_see_struct_data) {
    const article a = sample();
    view::lambdas fns{{"bold", [](std::string_view text) { return "<b>" + std::string{text} + "</b>"; }},
                      {"id", [] { return std::string{"never: the data has an id"}; }}};
    view::partials parts{{"tag", view::Template::compile("<i>{{label}}</i>")}};
    EXPECT_EQ(both("{{#bold}}{{title}}{{/bold}} {{id}} {{#tags}}{{> tag}}{{/tags}}", a, parts, fns),
              "<b>Tea &amp; &lt;cake&gt;</b> 42 <i>hot &quot;stuff&quot;</i><i>cold</i>");
}

TEST(view_struct_data, a_vector_at_the_top_is_the_context) {
    std::vector<tag> tags{{"a", true}, {"b", false}};
    // Names are looked up in objects only, so {{0.label}} finds nothing at the top; {{.}} prints the list.
    EXPECT_EQ(both("{{#.}}{{label}}{{/.}} {{0.label}} {{.}}", tags),
              R"(ab  [{&quot;label&quot;:&quot;a&quot;,&quot;hot&quot;:true},{&quot;label&quot;:&quot;b&quot;,&quot;hot&quot;:false}])");
}

TEST(view_struct_data, an_enum_value_without_a_name_throws_as_json_does_when_a_tag_reaches_it) {
    article a;
    a.hue = static_cast<color>(7);
    EXPECT_THROW(view::Template::compile("{{hue}}").render(a), std::invalid_argument);
    // Members are read only when a tag names them: the rest of the struct is never converted.
    EXPECT_EQ(view::Template::compile("[{{title}}]").render(a), "[]");
}

TEST(view_struct_data, templates_render_structs_in_place) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("zephyr-view-struct-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
    std::filesystem::create_directories(dir);
    std::ofstream{dir / "page.mustache"} << "<h1>{{title}}</h1>{{#tags}}{{> tag}}{{/tags}}";
    std::ofstream{dir / "tag.mustache"} << "<i>{{label}}</i>";
    view::Templates views{dir};
    const article a = sample();
    EXPECT_EQ(views.render("page", a), views.render("page", zephyr::json::to_value(a)));
    EXPECT_EQ(views.render("page", a), "<h1>Tea &amp; &lt;cake&gt;</h1><i>hot &quot;stuff&quot;</i><i>cold</i>");
    std::filesystem::remove_all(dir);
}

TEST(view_struct_data, outputs_of_any_size_follow_each_other) {
    // Each render reserves what the largest earlier one needed; a shorter or longer one must not be affected.
    auto t = view::Template::compile("{{#items}}<li>{{.}}</li>{{/items}}");
    for (std::size_t n : {0, 1000, 3, 0, 20000, 1}) {
        std::vector<std::string> items(n, "x&y");
        std::string expected;
        for (std::size_t i = 0; i < n; ++i)
            expected += "<li>x&amp;y</li>";
        boost::json::array arr;
        for (const auto& s : items)
            arr.emplace_back(s);
        EXPECT_EQ(t.render(boost::json::object{{"items", arr}}), expected) << n;
    }
}

namespace {

std::string reference_escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

}  // namespace

TEST(view_escape, matches_a_plain_reference_at_every_length_and_position) {
    // Lengths around the 16-byte blocks the fast path reads, with each special character at every position, and
    // runs of several.
    for (std::size_t len = 0; len <= 70; ++len) {
        for (char special : std::string_view{"&<>\"'"}) {
            for (std::size_t at = 0; at < len; ++at) {
                std::string s(len, 'a');
                s[at] = special;
                ASSERT_EQ(view::escape_html(s), reference_escape(s)) << len << " " << at;
                if (at + 1 < len) s[at + 1] = '<';
                ASSERT_EQ(view::escape_html(s), reference_escape(s)) << len << " " << at;
            }
        }
    }
    std::string all;
    for (int rep = 0; rep < 3; ++rep)
        for (int c = 0; c < 256; ++c)
            all += static_cast<char>(c);
    EXPECT_EQ(view::escape_html(all), reference_escape(all));
    EXPECT_EQ(view::escape_html(std::string(40, '&')), reference_escape(std::string(40, '&')));
    EXPECT_EQ(view::escape_html("フレームワークのベンチマーク <'>"), "フレームワークのベンチマーク &lt;&#39;&gt;");
}
