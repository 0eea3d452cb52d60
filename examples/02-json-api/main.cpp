// A JSON API for a small bookshop: request and response types as plain described structs, validation rules
// next to them, typed extractors, an injected store, errors as values (Result) and as exceptions (on_error).
//
//     make run EXAMPLE=json_api
//     curl -s localhost:8080/books -H 'Content-Type: application/json' -d '{"title":"Dune",
//          "author":"Frank Herbert","year":1965,"tags":["sf"]}'
//     curl -s 'localhost:8080/books?tag=sf&limit=10'
#include <zephyr/zephyr.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace zephyr;

// [types]
struct new_book {
    std::string title;
    std::string author;
    int year = 0;
    std::vector<std::string> tags;
    std::optional<std::string> isbn;
};
BOOST_DESCRIBE_STRUCT(new_book, (), (title, author, year, tags, isbn))

inline auto validation(validate::rules_for<new_book>) {
    using namespace zephyr::validate;
    return rules(field(&new_book::title, length(1, 200)),
                 field(&new_book::author, length(1, 100)),
                 field(&new_book::year, min(1450), max(2100)),
                 field(&new_book::tags, max_length(10), each(length(1, 30), pattern("[a-z0-9-]+"))),
                 field(&new_book::isbn, pattern("97[89][0-9]{10}", "must be a 13-digit ISBN")));
}

struct book {
    std::int64_t id = 0;
    std::string title;
    std::string author;
    int year = 0;
    std::vector<std::string> tags;
    std::optional<std::string> isbn;
};
BOOST_DESCRIBE_STRUCT(book, (), (id, title, author, year, tags, isbn))

struct book_query {
    std::optional<std::string> tag;
    int limit = 20;
    int offset = 0;
};
BOOST_DESCRIBE_STRUCT(book_query, (), (tag, limit, offset))

inline auto validation(validate::rules_for<book_query>) {
    using namespace zephyr::validate;
    return rules(field(&book_query::limit, min(1), max(100)), field(&book_query::offset, min(0)));
}

struct book_page {
    std::vector<book> items;
    std::size_t total = 0;
};
BOOST_DESCRIBE_STRUCT(book_page, (), (items, total))
// [types]

// [store]
struct duplicate_isbn : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The app's one store, shared by every request (handlers run on several threads).
class book_store {
public:
    book add(new_book b) {
        std::lock_guard lock{mutex_};
        for (const auto& [id, existing] : books_)
            if (b.isbn && existing.isbn == b.isbn) throw duplicate_isbn{"a book with ISBN " + *b.isbn + " exists"};
        book made{next_id_++, std::move(b.title), std::move(b.author), b.year, std::move(b.tags), std::move(b.isbn)};
        books_[made.id] = made;
        return made;
    }
    std::optional<book> find(std::int64_t id) {
        std::lock_guard lock{mutex_};
        auto it = books_.find(id);
        if (it == books_.end()) return std::nullopt;
        return it->second;
    }
    book_page list(const book_query& q) {
        std::lock_guard lock{mutex_};
        book_page page;
        for (const auto& [id, b] : books_) {
            if (q.tag && std::find(b.tags.begin(), b.tags.end(), *q.tag) == b.tags.end()) continue;
            if (page.total++ >= static_cast<std::size_t>(q.offset) && page.items.size() < static_cast<std::size_t>(q.limit))
                page.items.push_back(b);
        }
        return page;
    }
    bool remove(std::int64_t id) {
        std::lock_guard lock{mutex_};
        return books_.erase(id) > 0;
    }

private:
    std::mutex mutex_;
    std::map<std::int64_t, book> books_;
    std::int64_t next_id_ = 1;
};
// [store]

// [routes]
App& make_app(App& app) {
    app.provide(std::make_shared<book_store>());
    app.on_error<duplicate_isbn>([](const duplicate_isbn& e) { return HttpError{status::conflict, e.what()}; });

    auto& api = app.group("/books");
    api.get("", [](Query<book_query> q, Inject<book_store> store) -> Json<book_page> { return store->list(*q); });
    api.post("", [&app](Inject<book_store> store, Json<new_book> body) -> Created<Json<book>> {
        book b = store->add(std::move(*body));
        return {b, app.url_for("books.show", {{"id", std::to_string(b.id)}})};
    });
    api.get("/{id:int}",
            [](Path<std::int64_t> id, Inject<book_store> store) -> Result<Json<book>> {
                if (auto b = store->find(*id)) return *b;
                return HttpError{status::not_found, "no book with id " + std::to_string(*id)};
            },
            {.name = "books.show"});
    api.del("/{id:int}", [](Path<std::int64_t> id, Inject<book_store> store) -> Result<NoContent> {
        if (!store->remove(*id)) return HttpError{status::not_found, "no book with id " + std::to_string(*id)};
        return NoContent{};
    });
    return app;
}
// [routes]

#ifndef ZEPHYR_EXAMPLE_NO_MAIN
int main(int argc, char** argv) {
    App app;
    return make_app(app).run(argc, argv);
}
#endif
