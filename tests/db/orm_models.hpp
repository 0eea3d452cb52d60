// Models shared by the ORM tests: authors with posts, posts with tags through a join table.
#pragma once

#include <zephyr/db.hpp>

#include <boost/describe/class.hpp>
#include <boost/describe/enum.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace orm_test {

enum class status { draft, published };
BOOST_DESCRIBE_ENUM(status, draft, published)

struct post;

struct author {
    std::int64_t id = 0;
    std::string name;
    std::optional<std::string> email{};
    int age = 0;
    std::chrono::system_clock::time_point created_at{};
    std::chrono::system_clock::time_point updated_at{};
    std::vector<post> posts{};  // has many
};

struct tag {
    std::int64_t id = 0;
    std::string label;
};
BOOST_DESCRIBE_STRUCT(tag, (), (id, label))

struct post {
    std::int64_t id = 0;
    std::int64_t author_id = 0;
    std::string title;
    std::optional<std::string> body{};
    double score = 0;
    status state = status::draft;
    std::optional<author> writer{};  // belongs to
    std::vector<tag> tags{};         // many to many
};
BOOST_DESCRIBE_STRUCT(post, (), (id, author_id, title, body, score, state, writer, tags))
BOOST_DESCRIBE_STRUCT(author, (), (id, name, email, age, created_at, updated_at, posts))

struct post_tag {
    std::int64_t post_id = 0;
    std::int64_t tag_id = 0;
};
BOOST_DESCRIBE_STRUCT(post_tag, (), (post_id, tag_id))

inline auto zephyr_model(author*) {
    return zephyr::db::model<author>("authors")
        .primary_key(&author::id)
        .max_length(&author::name, 100)
        .unique(&author::email)
        .default_sql(&author::age, "0")
        .timestamps(&author::created_at, &author::updated_at)
        .has_many(&author::posts, &post::author_id);
}

inline auto zephyr_model(tag*) {
    return zephyr::db::model<tag>("tags").primary_key(&tag::id).unique(&tag::label);
}

inline auto zephyr_model(post*) {
    return zephyr::db::model<post>("posts")
        .primary_key(&post::id)
        .foreign_key(&post::author_id, &author::id, zephyr::db::on_delete::cascade)
        .index(&post::author_id, &post::score)
        .belongs_to(&post::writer, &post::author_id)
        .many_to_many(&post::tags, &post_tag::post_id, &post_tag::tag_id);
}

inline auto zephyr_model(post_tag*) {
    return zephyr::db::model<post_tag>("post_tags")
        .primary_key(&post_tag::post_id, &post_tag::tag_id)
        .foreign_key(&post_tag::post_id, &post::id, zephyr::db::on_delete::cascade)
        .foreign_key(&post_tag::tag_id, &tag::id, zephyr::db::on_delete::cascade);
}

}  // namespace orm_test
