// Mustache templates: every part of the specification (interpolation, sections, inverted sections, comments,
// partials, set delimiters, lambdas and the standalone-line rules), errors with positions, and hostile input.
#include <zephyr/view/template.hpp>

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace view = zephyr::view;

namespace {

std::string render(std::string_view tmpl, std::string_view data = "{}", const view::partials& partials = {},
                   const view::lambdas& lambdas = {}) {
    return view::Template::compile(tmpl).render(boost::json::parse(data), partials, lambdas);
}

view::partials make_partials(std::initializer_list<std::pair<const char*, const char*>> list) {
    view::partials p;
    for (const auto& [name, text] : list)
        p.emplace(name, view::Template::compile(text, name));
    return p;
}

// The template_error that compiling `tmpl` throws.
view::template_error compile_error(std::string_view tmpl, std::string name = {}, view::limits limits = {}) {
    try {
        view::Template::compile(tmpl, std::move(name), limits);
    } catch (const view::template_error& e) {
        return e;
    }
    ADD_FAILURE() << "no template_error for: " << tmpl;
    return view::template_error{"", 0, 0, ""};
}

// The template_error that rendering throws.
view::template_error render_error(const view::Template& t, std::string_view data = "{}",
                                  const view::partials& partials = {}, const view::lambdas& lambdas = {}) {
    try {
        t.render(boost::json::parse(data), partials, lambdas);
    } catch (const view::template_error& e) {
        return e;
    }
    ADD_FAILURE() << "no template_error while rendering " << t.name();
    return view::template_error{"", 0, 0, ""};
}

}  // namespace

// --- Interpolation -------------------------------------------------------------------------------------------

TEST(mustache_interpolation, text_without_tags_is_copied) {
    EXPECT_EQ(render("Plain {text} with { braces }\n"), "Plain {text} with { braces }\n");
    EXPECT_EQ(render(""), "");
}

TEST(mustache_interpolation, names_are_replaced_by_values) {
    EXPECT_EQ(render("Dear {{who}},\n", R"({"who":"Grace"})"), "Dear Grace,\n");
}

TEST(mustache_interpolation, double_braces_escape_html) {
    EXPECT_EQ(render("<p>{{s}}</p>", R"({"s":"a & b < c > d \" e ' f"})"),
              "<p>a &amp; b &lt; c &gt; d &quot; e &#39; f</p>");
}

TEST(mustache_interpolation, triple_braces_and_ampersand_do_not_escape) {
    const char* data = R"({"s":"<b>&\"'</b>"})";
    EXPECT_EQ(render("{{{s}}}", data), "<b>&\"'</b>");
    EXPECT_EQ(render("{{&s}}", data), "<b>&\"'</b>");
}

TEST(mustache_interpolation, numbers_print_plainly) {
    EXPECT_EQ(render("{{n}} km/h", R"({"n":120})"), "120 km/h");
    EXPECT_EQ(render("{{{n}}}|{{&n}}", R"({"n":-7})"), "-7|-7");
    EXPECT_EQ(render("{{n}}", R"({"n":18446744073709551615})"), "18446744073709551615");
    EXPECT_EQ(render("{{x}} {{{x}}} {{&x}}", R"({"x":2.500})"), "2.5 2.5 2.5");  // no trailing zeros
    EXPECT_EQ(render("{{x}}", R"({"x":0.1})"), "0.1");
}

TEST(mustache_interpolation, booleans_print_as_words) {
    EXPECT_EQ(render("{{a}}/{{b}}", R"({"a":true,"b":false})"), "true/false");
}

TEST(mustache_interpolation, null_and_missing_names_are_empty) {
    EXPECT_EQ(render("[{{gone}}][{{{gone}}}][{{&gone}}]", R"({"gone":null})"), "[][][]");
    EXPECT_EQ(render("[{{nowhere}}][{{{nowhere}}}][{{&nowhere}}]"), "[][][]");
}

TEST(mustache_interpolation, objects_and_arrays_print_as_escaped_json) {
    EXPECT_EQ(render("{{o}}", R"({"o":{"k":"<v>"}})"), "{&quot;k&quot;:&quot;&lt;v&gt;&quot;}");
    EXPECT_EQ(render("{{{a}}}", R"({"a":[1,"x"]})"), R"([1,"x"])");
}

TEST(mustache_interpolation, dotted_names_walk_into_objects) {
    const char* data = R"({"order":{"customer":{"name":"Lin"}}})";
    EXPECT_EQ(render("{{order.customer.name}}", data), "Lin");
    EXPECT_EQ(render("{{{order.customer.name}}}|{{&order.customer.name}}", data), "Lin|Lin");
    EXPECT_EQ(render("{{order.customer.name}} = {{#order}}{{#customer}}{{name}}{{/customer}}{{/order}}", data),
              "Lin = Lin");
    EXPECT_EQ(render("{{p.q.r.s.t.u}}", R"({"p":{"q":{"r":{"s":{"t":{"u":"deep"}}}}}})"), "deep");
}

TEST(mustache_interpolation, a_broken_chain_is_empty) {
    EXPECT_EQ(render("[{{a.b.c}}]", R"({"a":{}})"), "[]");
    EXPECT_EQ(render("[{{a.b.c}}]", R"({"a":"text"})"), "[]");
    // Later parts resolve only against the value before them, never against outer contexts.
    EXPECT_EQ(render("[{{a.b.name}}]", R"({"a":{"b":{}},"name":"outer"})"), "[]");
}

TEST(mustache_interpolation, the_first_part_of_a_dotted_name_uses_the_context_stack) {
    const char* data = R"({"x":{"y":{"z":"inner"}},"y":{"z":"outer"}})";
    EXPECT_EQ(render("{{#x}}{{y.z}}{{/x}}", data), "inner");
    // Once `b` is found in the inner context, `b.c` does not fall back to an outer `b`.
    EXPECT_EQ(render("[{{#a}}{{b.c}}{{/a}}]", R"({"a":{"b":{}},"b":{"c":"wrong"}})"), "[]");
}

TEST(mustache_interpolation, a_number_part_indexes_an_array) {
    EXPECT_EQ(render("{{items.1.name}}", R"({"items":[{"name":"a"},{"name":"b"}]})"), "b");
    EXPECT_EQ(render("[{{items.5}}][{{items.x}}]", R"({"items":[1]})"), "[][]");
}

TEST(mustache_interpolation, a_dot_is_the_current_context) {
    EXPECT_EQ(render("Hi {{.}}!", R"("you")"), "Hi you!");
    EXPECT_EQ(render("{{.}}", R"("<&>")"), "&lt;&amp;&gt;");
    EXPECT_EQ(render("{{{.}}}{{&.}}", R"("<&>")"), "<&><&>");
    EXPECT_EQ(render("{{.}}", "42"), "42");
}

TEST(mustache_interpolation, whitespace_around_and_inside_tags) {
    const char* data = R"({"v":"x"})";
    EXPECT_EQ(render("( {{v}} )", data), "( x )");
    EXPECT_EQ(render("( {{{v}}} )( {{&v}} )", data), "( x )( x )");
    EXPECT_EQ(render("({{ v }})({{{ v }}})({{& v }})", data), "(x)(x)(x)");
    // An interpolation alone on a line is never standalone: the line and its indentation stay.
    EXPECT_EQ(render("   {{v}}\n", data), "   x\n");
    EXPECT_EQ(render("   {{{v}}}\n  {{&v}}\n", data), "   x\n  x\n");
}

// --- Sections ------------------------------------------------------------------------------------------------

TEST(mustache_sections, render_once_for_a_truthy_value) {
    EXPECT_EQ(render("<{{#ok}}shown{{/ok}}>", R"({"ok":true})"), "<shown>");
    EXPECT_EQ(render("<{{#n}}{{.}}{{/n}}>", R"({"n":3})"), "<3>");
    EXPECT_EQ(render("<{{#s}}[{{.}}] is {{s}}{{/s}}>", R"({"s":"tea"})"), "<[tea] is tea>");
}

TEST(mustache_sections, skip_falsey_values) {
    for (const char* data :
         {R"({"v":false})", R"({"v":null})", R"({})", R"({"v":[]})", R"({"v":""})", R"({"v":0})", R"({"v":0.0})"}) {
        EXPECT_EQ(render("<{{#v}}hidden{{/v}}>", data), "<>") << data;
    }
    EXPECT_EQ(render("<{{#v}}shown{{/v}}>", R"({"v":{}})"), "<shown>");  // an empty object is truthy
}

TEST(mustache_sections, an_object_becomes_the_context) {
    EXPECT_EQ(render("{{#user}}{{first}} {{last}}{{/user}}", R"({"user":{"first":"Ada","last":"L"}})"), "Ada L");
}

TEST(mustache_sections, names_fall_back_to_outer_contexts) {
    EXPECT_EQ(render("{{#inner}}{{a}} {{b}} {{c.d}}{{/inner}}",
                     R"({"a":"top","b":"shadowed","inner":{"b":"near"},"c":{"d":"side"}})"),
              "top near side");
}

TEST(mustache_sections, a_list_renders_once_per_item) {
    EXPECT_EQ(render("{{#rows}}<{{id}}>{{/rows}}", R"({"rows":[{"id":1},{"id":2},{"id":3}]})"), "<1><2><3>");
    EXPECT_EQ(render("[{{#rows}}never{{/rows}}]", R"({"rows":[]})"), "[]");
}

TEST(mustache_sections, nested_lists_see_every_enclosing_item) {
    const char* data = R"({"groups":[{"g":"A","subs":[{"s":"1","leaves":[{"l":"x"},{"l":"y"}]}]},
                                     {"g":"B","subs":[{"s":"2","leaves":[{"l":"z"}]}]}]})";
    EXPECT_EQ(render("{{#groups}}{{#subs}}{{#leaves}}{{g}}{{s}}{{l}} {{/leaves}}{{/subs}}{{/groups}}", data),
              "A1x A1y B2z ");
}

TEST(mustache_sections, deep_context_stacks_resolve_nearest_first) {
    const char* data = R"({"a":{"v":1},"b":{"w":2},"c":{"v":3}})";
    EXPECT_EQ(render("{{#a}}{{v}}{{#b}}{{v}}{{w}}{{#c}}{{v}}{{w}}{{/c}}{{v}}{{/b}}{{/a}}", data), "112321");
}

TEST(mustache_sections, nesting_and_repetition) {
    EXPECT_EQ(render("a {{#t}}b {{#t}}c{{/t}} d{{/t}} e", R"({"t":true})"), "a b c d e");
    EXPECT_EQ(render("a {{#t}}b {{#t}}c{{/t}} d{{/t}} e", R"({"t":false})"), "a  e");
    EXPECT_EQ(render("{{#t}}\n1\n{{/t}}\n2\n{{#t}}\n3\n{{/t}}\n", R"({"t":true})"), "1\n2\n3\n");
}

TEST(mustache_sections, the_implicit_iterator_walks_lists_of_scalars_and_lists) {
    EXPECT_EQ(render("{{#l}}({{.}}){{/l}}", R"({"l":["x","y"]})"), "(x)(y)");
    EXPECT_EQ(render("{{#l}}({{.}}){{/l}}", R"({"l":[10,20]})"), "(10)(20)");
    EXPECT_EQ(render("{{#l}}({{.}}){{/l}}", R"({"l":[0.5,1.25]})"), "(0.5)(1.25)");
    EXPECT_EQ(render("{{#l}}({{#.}}{{.}}{{/.}}){{/l}}", R"({"l":[[1,2],["p","q"]]})"), "(12)(pq)");
}

TEST(mustache_sections, dotted_section_names) {
    EXPECT_EQ(render("[{{#a.b.c}}yes{{/a.b.c}}]", R"({"a":{"b":{"c":true}}})"), "[yes]");
    EXPECT_EQ(render("[{{#a.b.c}}yes{{/a.b.c}}]", R"({"a":{"b":{"c":false}}})"), "[]");
    EXPECT_EQ(render("[{{#a.b.c}}yes{{/a.b.c}}]", R"({"a":{}})"), "[]");
}

TEST(mustache_sections, inline_tags_keep_surrounding_whitespace) {
    EXPECT_EQ(render(" : {{#t}}\t:\t{{/t}} : \n", R"({"t":true})"), " : \t:\t : \n");
    EXPECT_EQ(render(" : {{#t}} {{! note }}\n {{/t}} : \n", R"({"t":true})"), " :  \n  : \n");
    EXPECT_EQ(render("  {{#t}}one{{/t}}\n  {{#t}}two{{/t}}\n", R"({"t":true})"), "  one\n  two\n");
}

TEST(mustache_sections, standalone_tag_lines_disappear) {
    const char* data = R"({"t":true})";
    EXPECT_EQ(render("top\n{{#t}}\nmiddle\n{{/t}}\nbottom\n", data), "top\nmiddle\nbottom\n");
    EXPECT_EQ(render("top\n    {{#t}}\nmiddle\n\t{{/t}}  \nbottom\n", data), "top\nmiddle\nbottom\n");
    EXPECT_EQ(render("a\r\n{{#t}}\r\n{{/t}}\r\nb", data), "a\r\nb");
    EXPECT_EQ(render("  {{#t}}\n*{{/t}}\n-", data), "*\n-");    // first line of the template
    EXPECT_EQ(render("*{{#t}}\n-\n  {{/t}}", data), "*\n-\n");  // last line, no line break
    EXPECT_EQ(render("[{{# t }}={{/ t }}]", data), "[=]");      // padding inside the tags
}

// --- Inverted sections ---------------------------------------------------------------------------------------

TEST(mustache_inverted, render_only_for_falsey_values_and_empty_lists) {
    EXPECT_EQ(render("<{{^v}}none{{/v}}>", R"({"v":false})"), "<none>");
    EXPECT_EQ(render("<{{^v}}none{{/v}}>", R"({"v":null})"), "<none>");
    EXPECT_EQ(render("<{{^v}}none{{/v}}>", R"({})"), "<none>");
    EXPECT_EQ(render("<{{^v}}none{{/v}}>", R"({"v":[]})"), "<none>");
    EXPECT_EQ(render("<{{^v}}none{{/v}}>", R"({"v":true})"), "<>");
    EXPECT_EQ(render("<{{^v}}none{{/v}}>", R"({"v":{"k":1}})"), "<>");
    EXPECT_EQ(render("<{{^v}}{{n}}{{/v}}>", R"({"v":[{"n":1},{"n":2}]})"), "<>");
}

TEST(mustache_inverted, nesting_repetition_and_dotted_names) {
    EXPECT_EQ(render("a {{^f}}b {{^f}}c{{/f}} d{{/f}} e", R"({"f":false})"), "a b c d e");
    EXPECT_EQ(render("a {{^f}}b {{^f}}c{{/f}} d{{/f}} e", R"({"f":true})"), "a  e");
    EXPECT_EQ(render("{{^f}}\n1\n{{/f}}\n2\n{{^f}}\n3\n{{/f}}\n", R"({"f":false})"), "1\n2\n3\n");
    EXPECT_EQ(render("[{{^a.b.c}}no{{/a.b.c}}]", R"({"a":{"b":{"c":true}}})"), "[]");
    EXPECT_EQ(render("[{{^a.b.c}}no{{/a.b.c}}]", R"({"a":{"b":{"c":false}}})"), "[no]");
    EXPECT_EQ(render("[{{^a.b.c}}no{{/a.b.c}}]", R"({"a":{}})"), "[no]");
}

TEST(mustache_inverted, whitespace_and_standalone_lines) {
    const char* data = R"({"f":false})";
    EXPECT_EQ(render(" : {{^f}}\t:\t{{/f}} : \n", data), " : \t:\t : \n");
    EXPECT_EQ(render(" : {{^f}} {{! note }}\n {{/f}} : \n", data), " :  \n  : \n");
    EXPECT_EQ(render("  {{^f}}no{{/f}}\n  {{^f}}way{{/f}}\n", data), "  no\n  way\n");
    EXPECT_EQ(render("top\n{{^f}}\nmiddle\n{{/f}}\nbottom\n", data), "top\nmiddle\nbottom\n");
    EXPECT_EQ(render("top\n  {{^f}}\nmiddle\n  {{/f}}\nbottom\n", data), "top\nmiddle\nbottom\n");
    EXPECT_EQ(render("a\r\n{{^f}}\r\n{{/f}}\r\nb", data), "a\r\nb");
    EXPECT_EQ(render("  {{^f}}\n^{{/f}}\n-", data), "^\n-");
    EXPECT_EQ(render("^{{^f}}\n-\n  {{/f}}", data), "^\n-\n");
    EXPECT_EQ(render("[{{^ f }}={{/ f }}]", data), "[=]");
}

// --- Comments ------------------------------------------------------------------------------------------------

TEST(mustache_comments, are_removed) {
    EXPECT_EQ(render("abc{{! not shown }}def"), "abcdef");
    EXPECT_EQ(render("abc{{!\n  spans\n  lines\n}}def\n"), "abcdef\n");
    EXPECT_EQ(render("abc {{! gone }} def"), "abc  def");
    EXPECT_EQ(render("  ab {{! cd }}\n"), "  ab \n");
}

TEST(mustache_comments, standalone_comment_lines_disappear) {
    EXPECT_EQ(render("one\n{{! a note }}\ntwo\n"), "one\ntwo\n");
    EXPECT_EQ(render("one\n    {{! indented }}\ntwo\n"), "one\ntwo\n");
    EXPECT_EQ(render("x\r\n{{! crlf }}\r\ny"), "x\r\ny");
    EXPECT_EQ(render("  {{! first line }}\n!"), "!");
    EXPECT_EQ(render("!\n  {{! last line }}"), "!\n");
    EXPECT_EQ(render("one\n{{!\nmany\nlines\n}}\ntwo\n"), "one\ntwo\n");
    EXPECT_EQ(render("one\n  {{!\n    many\n  }}\ntwo\n"), "one\ntwo\n");
}

TEST(mustache_comments, never_look_up_data) {
    EXPECT_EQ(render("<{{! note }}>", R"({"! note":1,"! note ":2,"!note":3,"note":4})"), "<>");
}

// --- Partials ------------------------------------------------------------------------------------------------

TEST(mustache_partials, insert_another_template_with_the_current_context) {
    EXPECT_EQ(render("({{>part}})", "{}", make_partials({{"part", "inside"}})), "(inside)");
    EXPECT_EQ(render("({{>part}})", R"({"v":"x"})", make_partials({{"part", "[{{v}}]"}})), "([x])");
    EXPECT_EQ(render("{{#item}}{{>part}}{{/item}}", R"({"item":{"v":"y"}})", make_partials({{"part", "{{v}}"}})), "y");
}

TEST(mustache_partials, a_missing_partial_renders_as_nothing) {
    EXPECT_EQ(render("({{>nowhere}})"), "()");
}

TEST(mustache_partials, may_recurse_over_data) {
    const char* data = R"({"v":"root","kids":[{"v":"a","kids":[{"v":"a1","kids":[]}]},{"v":"b","kids":[]}]})";
    EXPECT_EQ(render("{{>tree}}", data, make_partials({{"tree", "{{v}}({{#kids}}{{>tree}}{{/kids}})"}})),
              "root(a(a1())b())");
}

TEST(mustache_partials, whitespace_around_inline_partials_is_kept) {
    EXPECT_EQ(render("= {{>p}} =", "{}", make_partials({{"p", "\t-\t"}})), "= \t-\t =");
    EXPECT_EQ(render("[{{> p }}]", "{}", make_partials({{"p", "ok"}})), "[ok]");
    // Inline, the partial is not indented: its second line starts at column 0.
    EXPECT_EQ(render("  {{v}}  {{>p}}\n", R"({"v":"*"})", make_partials({{"p", "a\nb"}})), "  *  a\nb\n");
}

TEST(mustache_partials, a_standalone_partial_is_indented_like_its_tag) {
    auto p = make_partials({{"p", "a\nb"}});
    EXPECT_EQ(render("x\r\n{{>p}}\r\ny", "{}", make_partials({{"p", "-"}})), "x\r\n-y");
    EXPECT_EQ(render("   {{>p}}\n!", "{}", p), "   a\n   b!");
    EXPECT_EQ(render("!\n   {{>p}}", "{}", p), "!\n   a\n   b");
    // Every line of the partial's own text is indented; lines inside inserted data are not.
    EXPECT_EQ(render("<\n  {{>p}}\n>\n", R"({"data":"1\n2"})", make_partials({{"p", "[\n{{{data}}}\n]\n"}})),
              "<\n  [\n  1\n2\n  ]\n>\n");
}

TEST(mustache_partials, indentation_accumulates_through_nested_partials) {
    auto p = make_partials({{"outer", "<ul>\n  {{>inner}}\n</ul>\n"}, {"inner", "<li>\n{{#t}}\n  x\n{{/t}}\n</li>\n"}});
    EXPECT_EQ(render("<div>\n  {{>outer}}\n</div>\n", R"({"t":true})", p),
              "<div>\n  <ul>\n    <li>\n      x\n    </li>\n  </ul>\n</div>\n");
}

TEST(mustache_partials, empty_lines_of_an_indented_partial_stay_empty) {
    EXPECT_EQ(render("  {{>p}}\n", "{}", make_partials({{"p", "a\n\nb\n"}})), "  a\n\n  b\n");
}

// --- Set delimiters ------------------------------------------------------------------------------------------

TEST(mustache_delimiters, change_the_tag_markers) {
    EXPECT_EQ(render("{{=<% %>=}}(<%v%>)", R"({"v":"ok"})"), "(ok)");
    EXPECT_EQ(render("({{=[ ]=}}[v])", R"({"v":"ok"})"), "(ok)");
    EXPECT_EQ(render("{{=| |=}}|#s||v| {{v}}|/s|", R"({"s":true,"v":"x"})"), "x {{v}}");
    EXPECT_EQ(render("{{=| |=}}|^s||v||/s|", R"({"s":false,"v":"x"})"), "x");
    EXPECT_EQ(render("{{=<% %>=}}<%{v}%><%&v%>", R"({"v":"<"})"), "<<");
    EXPECT_EQ(render("{{=<% %>=}}<%! note %><%=| |=%>|v|", R"({"v":"!"})"), "!");
}

TEST(mustache_delimiters, sections_and_partials_under_new_delimiters) {
    const char* data = R"({"s":true,"v":"in"})";
    EXPECT_EQ(render("[\n{{#s}}\n  {{v}}\n  |v|\n{{/s}}\n{{= | | =}}\n|#s|\n  {{v}}\n  |v|\n|/s|\n]\n", data),
              "[\n  in\n  |v|\n  {{v}}\n  in\n]\n");
}

TEST(mustache_delimiters, do_not_leak_into_or_out_of_partials) {
    auto p = make_partials({{"p", ".{{v}}."}});
    EXPECT_EQ(render("[{{>p}}]\n{{=| |=}}\n[|>p|]\n", R"({"v":"y"})", p), "[.y.]\n[.y.]\n");
    auto q = make_partials({{"q", ".{{v}}. {{=| |=}} .|v|."}});
    EXPECT_EQ(render("[{{>q}}]\n[.{{v}}. .|v|.]\n", R"({"v":"y"})", q), "[.y.  .y.]\n[.y. .|v|.]\n");
}

TEST(mustache_delimiters, whitespace_and_standalone_lines) {
    EXPECT_EQ(render("= {{=@ @=}} ="), "=  =");
    EXPECT_EQ(render(" = {{=@ @=}}\n"), " = \n");
    EXPECT_EQ(render("a\n{{=@ @=}}\nb\n"), "a\nb\n");
    EXPECT_EQ(render("a\n   {{=@ @=}}\nb\n"), "a\nb\n");
    EXPECT_EQ(render("a\r\n{{= @ @ =}}\r\nb"), "a\r\nb");
    EXPECT_EQ(render("  {{=@ @=}}\n="), "=");
    EXPECT_EQ(render("=\n  {{=@ @=}}"), "=\n");
    EXPECT_EQ(render("[{{=  @    @  =}}]"), "[]");
}

// --- Lambdas -------------------------------------------------------------------------------------------------

TEST(mustache_lambdas, interpolation_inserts_the_rendered_result) {
    view::lambdas l{{"greet", [] { return std::string{"hello"}; }},
                    {"expand", [] { return std::string{"{{who}}"}; }},
                    {"mixed", [] { return std::string{"|who| and {{who}}"}; }}};
    EXPECT_EQ(render("{{greet}}, {{expand}}", R"({"who":"Tom"})", {}, l), "hello, Tom");
    // The result uses the default delimiters whatever the template set.
    EXPECT_EQ(render("{{=| |=}}\n(|&mixed|)", R"({"who":"Tom"})", {}, l), "(|who| and Tom)");
}

TEST(mustache_lambdas, are_called_on_every_use) {
    int calls = 0;
    view::lambdas l{{"count", [&calls] { return std::to_string(++calls); }}};
    EXPECT_EQ(render("{{count}}-{{{count}}}-{{count}}", "{}", {}, l), "1-2-3");
}

TEST(mustache_lambdas, interpolation_results_are_escaped_unless_raw) {
    view::lambdas l{{"gt", [] { return std::string{">"}; }}};
    EXPECT_EQ(render("<{{gt}}{{{gt}}}", "{}", {}, l), "<&gt;>");
}

TEST(mustache_lambdas, sections_receive_the_unprocessed_text) {
    std::string seen;
    view::lambdas l{{"peek", [&seen](std::string_view text) {
                         seen = text;
                         return std::string{"ok"};
                     }}};
    EXPECT_EQ(render("<{{#peek}}{{v}} & {{#x}}y{{/x}}{{/peek}}>", R"({"v":"no"})", {}, l), "<ok>");
    EXPECT_EQ(seen, "{{v}} & {{#x}}y{{/x}}");
    // Standalone opening and closing tags: their lines are not part of the text.
    EXPECT_EQ(render("{{#peek}}\n  line\n{{/peek}}\n", "{}", {}, l), "ok");
    EXPECT_EQ(seen, "  line\n");
}

TEST(mustache_lambdas, section_results_are_rendered_with_the_current_delimiters) {
    view::lambdas l{
        {"wrap", [](std::string_view text) { return std::string{text} + "{{v}}" + std::string{text}; }},
        {"both", [](std::string_view text) { return std::string{text} + "{{v}} or |v|" + std::string{text}; }}};
    EXPECT_EQ(render("<{{#wrap}}*{{/wrap}}>", R"({"v":"mid"})", {}, l), "<*mid*>");
    EXPECT_EQ(render("{{=| |=}}<|#both|*|/both|>", R"({"v":"mid"})", {}, l), "<*{{v}} or mid*>");
    EXPECT_EQ(render("{{#wrap}}a{{/wrap}} {{#wrap}}b{{/wrap}}", R"({"v":"-"})", {}, l), "a-a b-b");
}

TEST(mustache_lambdas, are_truthy_for_inverted_sections) {
    view::lambdas l{{"f", [](std::string_view) { return std::string{}; }}};
    EXPECT_EQ(render("<{{^f}}never{{/f}}>", "{}", {}, l), "<>");
}

TEST(mustache_lambdas, see_the_current_context_and_lose_to_data) {
    view::lambdas l{{"bold", [](std::string_view text) { return "<b>" + std::string{text} + "</b>"; }},
                    {"name", [] { return std::string{"lambda"}; }}};
    EXPECT_EQ(
        render("{{#people}}{{#bold}}{{name}}{{/bold}} {{/people}}", R"({"people":[{"name":"A"},{"name":"B"}]})", {}, l),
        "<b>A</b> <b>B</b> ");
    EXPECT_EQ(render("{{name}}", R"({"name":"data"})", {}, l), "data");
    EXPECT_EQ(render("{{name}}", "{}", {}, l), "lambda");
}

TEST(mustache_lambdas, a_result_that_does_not_compile_is_reported_at_the_tag) {
    view::lambdas l{{"broken", [] { return std::string{"{{#open}}"}; }}};
    auto t = view::Template::compile("line one\n  {{broken}}", "page");
    auto e = render_error(t, "{}", {}, l);
    EXPECT_EQ(e.name(), "page");
    EXPECT_EQ(e.line(), 2u);
    EXPECT_EQ(e.column(), 3u);
    EXPECT_NE(e.message().find("lambda 'broken' returned text that does not compile"), std::string::npos) << e.what();
    EXPECT_NE(e.message().find("section 'open' is never closed"), std::string::npos) << e.what();
}

TEST(mustache_lambdas, exceptions_from_a_lambda_propagate) {
    view::lambdas l{{"boom", []() -> std::string { throw std::runtime_error{"no"}; }}};
    EXPECT_THROW(render("{{boom}}", "{}", {}, l), std::runtime_error);
}

// --- Errors --------------------------------------------------------------------------------------------------

TEST(mustache_errors, unclosed_tags_name_their_position) {
    auto e = compile_error("Hello\n  {{name\n", "hello.mustache");
    EXPECT_EQ(e.line(), 2u);
    EXPECT_EQ(e.column(), 3u);
    EXPECT_EQ(e.name(), "hello.mustache");
    EXPECT_STREQ(e.what(), "hello.mustache:2:3: tag '{{name\\n' is never closed with '}}'");

    e = compile_error("x {{{raw}} y");
    EXPECT_EQ(e.column(), 3u);
    EXPECT_NE(e.message().find("never closed with '}}}'"), std::string::npos) << e.what();
    EXPECT_EQ(compile_error("{{").line(), 1u);
    EXPECT_EQ(compile_error("{{! comment").column(), 1u);
    EXPECT_EQ(compile_error("ab{{=<% %>").column(), 3u);
}

TEST(mustache_errors, templates_without_a_name_are_inline) {
    auto e = compile_error("{{#a}}");
    EXPECT_EQ(e.name(), "<inline>");
    EXPECT_STREQ(e.what(), "<inline>:1:1: section 'a' is never closed (expected '{{/a}}')");
}

TEST(mustache_errors, unclosed_sections_point_at_the_opening_tag) {
    auto e = compile_error("<ul>\n  {{#items}}\n  <li>{{name}}</li>\n</ul>\n", "list");
    EXPECT_EQ(e.line(), 2u);
    EXPECT_EQ(e.column(), 3u);
    EXPECT_EQ(e.message(), "section 'items' is never closed (expected '{{/items}}')");
    e = compile_error("{{=<% %>=}}\n<%^empty%>");
    EXPECT_EQ(e.message(), "section 'empty' is never closed (expected '<%/empty%>')");
}

TEST(mustache_errors, mismatched_and_unopened_closing_tags) {
    auto e = compile_error("{{#outer}}\n{{#inner}}\n{{/outer}}\n{{/inner}}");
    EXPECT_EQ(e.line(), 3u);
    EXPECT_EQ(e.column(), 1u);
    EXPECT_EQ(e.message(),
              "closing tag '{{/outer}}' does not match the open section 'inner' (opened at line 2, column 1)");
    e = compile_error("text {{/stray}}");
    EXPECT_EQ(e.column(), 6u);
    EXPECT_EQ(e.message(), "closing tag '{{/stray}}' has no open section");
}

TEST(mustache_errors, malformed_names) {
    EXPECT_EQ(compile_error("{{}}").message(), "tag '{{}}' has no name");
    EXPECT_EQ(compile_error("{{#  }}x{{/}}").message(), "tag '{{#  }}' has no name");
    EXPECT_EQ(compile_error("{{first name}}").message(), "tag '{{first name}}' has a name with whitespace in it");
    EXPECT_NE(compile_error("{{a..b}}").message().find("name 'a..b' in tag '{{a..b}}' has an empty part"),
              std::string::npos);
    EXPECT_NE(compile_error("{{.a}}").message().find("empty part"), std::string::npos);
    EXPECT_NE(compile_error("{{>}}").message().find("has no name"), std::string::npos);
}

TEST(mustache_errors, malformed_set_delimiter_tags) {
    EXPECT_EQ(compile_error("{{=<%=}}").message(),
              "set-delimiter tag '{{=<%=}}' needs two delimiters separated by whitespace; write it as {{=<% %>=}}");
    EXPECT_NE(compile_error("{{= =}}").message().find("needs two delimiters"), std::string::npos);
    EXPECT_NE(compile_error("{{=< % >=}}").message().find("has more than two delimiters"), std::string::npos);
    // The next set-delimiter tag must use the current delimiters.
    auto e = compile_error("{{=[ ]=}}\n[=<% %>]");
    EXPECT_EQ(e.line(), 2u);
    EXPECT_NE(e.message().find("never closed with '=]'"), std::string::npos) << e.what();
}

// --- Hostile input -------------------------------------------------------------------------------------------

namespace {
std::string nested_sections(std::size_t depth) {
    std::string s;
    for (std::size_t i = 0; i < depth; ++i)
        s += "{{#a}}";
    s += "x";
    for (std::size_t i = 0; i < depth; ++i)
        s += "{{/a}}";
    return s;
}
}  // namespace

TEST(mustache_hostile, section_nesting_is_limited_when_compiling) {
    view::limits limits{};
    EXPECT_EQ(view::Template::compile(nested_sections(limits.max_depth)).render(boost::json::parse(R"({"a":{}})")),
              "x");
    auto e = compile_error(nested_sections(100'000));
    EXPECT_EQ(e.message(), "sections nested more than 128 deep");
    EXPECT_EQ(e.column(), 128u * 6 + 1);
    EXPECT_EQ(compile_error(nested_sections(11), {}, {.max_depth = 10}).message(), "sections nested more than 10 deep");
}

TEST(mustache_hostile, a_partial_that_includes_itself_stops_at_the_depth_limit) {
    auto self = make_partials({{"loop", "again {{>loop}}"}});
    auto e = render_error(view::Template::compile("start {{>loop}}", "page"), "{}", self);
    EXPECT_EQ(e.name(), "loop");
    EXPECT_EQ(e.column(), 7u);
    EXPECT_NE(e.message().find("nested more than 128 deep at 'loop'; does the partial include itself"),
              std::string::npos)
        << e.what();

    auto pair = make_partials({{"ping", "{{#t}}{{>pong}}{{/t}}"}, {"pong", "{{>ping}}"}});
    EXPECT_THROW(render("{{>ping}}", R"({"t":true})", pair), view::template_error);
}

TEST(mustache_hostile, a_lambda_that_expands_to_itself_stops_at_the_depth_limit) {
    view::lambdas l{{"again", [](std::string_view) { return std::string{"{{#again}}x{{/again}}"}; }}};
    auto e = render_error(view::Template::compile("{{#again}}{{/again}}"), "{}", {}, l);
    EXPECT_NE(e.message().find("nested more than"), std::string::npos) << e.what();
}

TEST(mustache_hostile, nested_loops_stop_at_the_step_limit) {
    // 2^40 iterations if nothing stopped it.
    std::string tmpl;
    for (int i = 0; i < 40; ++i)
        tmpl += "{{#l}}";
    for (int i = 0; i < 40; ++i)
        tmpl += "{{/l}}";
    auto t = view::Template::compile(tmpl, "loops", {.max_steps = 100'000});
    auto e = render_error(t, R"({"l":[1,2]})");
    EXPECT_NE(e.message().find("more than 100000 steps"), std::string::npos) << e.what();
}

TEST(mustache_hostile, output_size_is_limited) {
    auto t = view::Template::compile("{{#l}}{{#l}}{{#l}}{{s}}{{/l}}{{/l}}{{/l}}", "big", {.max_output = 10'000});
    auto e = render_error(t, R"({"l":[1,2,3,4,5,6,7,8,9,10],"s":"0123456789abcdef"})");
    EXPECT_NE(e.message().find("output larger than 10000 bytes"), std::string::npos) << e.what();
    view::lambdas huge{{"huge", [] { return std::string(20'000, 'x'); }}};
    auto h = view::Template::compile("{{huge}}", "h", {.max_output = 10'000});
    EXPECT_THROW(h.render(boost::json::object{}, {}, huge), view::template_error);
}

TEST(mustache_hostile, huge_templates_compile_and_render_in_linear_time) {
    std::string tmpl;
    std::string expected;
    for (int i = 0; i < 50'000; ++i) {
        tmpl += "row {{v}} {{! c }}{{#t}}[{{v}}]{{/t}}   \t";  // one long line, many tags
        expected += "row x [x]   \t";
    }
    tmpl += std::string(2'000'000, 'z');
    expected += std::string(2'000'000, 'z');
    auto start = std::chrono::steady_clock::now();
    auto t = view::Template::compile(tmpl);
    EXPECT_EQ(t.render(boost::json::parse(R"({"v":"x","t":true})")), expected);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds{20});
}

TEST(mustache_hostile, binary_and_odd_text_is_just_text) {
    EXPECT_NO_THROW(view::Template::compile("a { b } {{ c }} }} {"));
    EXPECT_NO_THROW(view::Template::compile(std::string{"\0\0\0", 3}));
    EXPECT_EQ(render(std::string_view{"\0x\0", 3}), std::string("\0x\0", 3));
}

// --- Data from structs, the empty template, escape_html ------------------------------------------------------

// [structs]
struct line_item {
    std::string name{};
    int qty = 0;
    double price = 0;
};
BOOST_DESCRIBE_STRUCT(line_item, (), (name, qty, price))

struct invoice {
    std::string customer{};
    std::vector<line_item> items{};
    std::optional<std::string> note{};
};
BOOST_DESCRIBE_STRUCT(invoice, (), (customer, items, note))
// [structs]

TEST(view_docs, render_a_struct) {
    // [render_struct]
    auto page = zephyr::view::Template::compile(
        "<h1>{{customer}}</h1>\n"
        "<ul>\n"
        "{{#items}}\n"
        "  <li>{{qty}} × {{name}} at {{price}}</li>\n"
        "{{/items}}\n"
        "</ul>\n"
        "{{^note}}<p>No note.</p>{{/note}}\n");

    invoice inv{.customer = "Ada & Co", .items = {{"Tea", 2, 3.5}, {"Cake", 1, 4}}};
    std::string html = page.render(inv);
    // <h1>Ada &amp; Co</h1>
    // <ul>
    //   <li>2 × Tea at 3.5</li>
    //   <li>1 × Cake at 4</li>
    // </ul>
    // <p>No note.</p>
    // [render_struct]
    EXPECT_EQ(html,
              "<h1>Ada &amp; Co</h1>\n"
              "<ul>\n"
              "  <li>2 × Tea at 3.5</li>\n"
              "  <li>1 × Cake at 4</li>\n"
              "</ul>\n"
              "<p>No note.</p>\n");
}

TEST(view_docs, render_json) {
    // [quick]
    auto hello = zephyr::view::Template::compile("Hello {{name}}!{{#admin}} (admin){{/admin}}");
    std::string text = hello.render({{"name", "<Ada>"}, {"admin", true}});
    // text == "Hello &lt;Ada&gt;! (admin)"
    // [quick]
    EXPECT_EQ(text, "Hello &lt;Ada&gt;! (admin)");
}

TEST(view_docs, partials_and_lambdas) {
    // [lambdas]
    using namespace zephyr::view;
    auto page = Template::compile("{{> header}}{{#upper}}Hi {{name}}{{/upper}} at {{now}}");
    partials parts{{"header", Template::compile("<h1>{{title}}</h1>\n", "header")}};
    lambdas fns{
        // A section lambda gets the section's raw text and returns template text, rendered afterwards.
        {"upper", [](std::string_view text) { return "<b>" + std::string{text} + "</b>"; }},
        // An interpolation lambda takes nothing; its result is rendered, then escaped.
        {"now", [] { return std::string{"12:00"}; }},
    };
    std::string html = page.render({{"title", "Home"}, {"name", "Ada"}}, parts, fns);
    // html == "<h1>Home</h1>\n<b>Hi Ada</b> at 12:00"
    // [lambdas]
    EXPECT_EQ(html, "<h1>Home</h1>\n<b>Hi Ada</b> at 12:00");
}

TEST(view_docs, compile_errors) {
    std::string message;
    std::size_t line = 0;
    // [errors]
    try {
        zephyr::view::Template::compile("<ul>\n{{#items}}\n  <li>{{name}}</li>\n{{/item}}\n</ul>\n", "list");
    } catch (const zephyr::view::template_error& e) {
        message = e.what();  // list:4:1: closing tag '{{/item}}' does not match the open section 'items'
                             // (opened at line 2, column 1)
        line = e.line();     // 4; and e.name() == "list", e.column() == 1, e.message() is the text after "list:4:1: "
    }
    // [errors]
    EXPECT_EQ(message,
              "list:4:1: closing tag '{{/item}}' does not match the open section 'items' "
              "(opened at line 2, column 1)");
    EXPECT_EQ(line, 4u);
}

TEST(view, the_empty_template_renders_nothing) {
    view::Template t;
    EXPECT_EQ(t.render(boost::json::object{}), "");
    EXPECT_EQ(t.name(), "<inline>");
    view::partials p;
    p["x"];  // default-constructible, so maps can grow with operator[]
    EXPECT_EQ(render("[{{>x}}]", "{}", p), "[]");
}

TEST(view, escape_html_replaces_the_five_special_characters) {
    EXPECT_EQ(view::escape_html(R"(<a href="x?a=1&b='2'">)"), "&lt;a href=&quot;x?a=1&amp;b=&#39;2&#39;&quot;&gt;");
    EXPECT_EQ(view::escape_html("plain"), "plain");
    EXPECT_EQ(view::escape_html(""), "");
}

TEST(view, templates_are_copied_cheaply_and_render_the_same) {
    auto a = view::Template::compile("{{v}}", "named");
    view::Template b = a;
    EXPECT_EQ(b.name(), "named");
    EXPECT_EQ(b.render(boost::json::parse(R"({"v":1})")), "1");
}
