// The TechEmpower tests, as their rules require.
//
// Plaintext and JSON: /plaintext answers "Hello, World!" as text/plain, /json serializes
// {"message":"Hello, World!"} for every request, here through Json<T> and a described struct. /json-by-hand does
// the same with Boost.JSON directly, so the bench shows what the typed path costs.
//
// Database (when DATABASE_URL is set, e.g. to the PostgreSQL loaded with schema.sql): /db reads one random
// World row; /queries?queries=N reads N rows with N separate queries, all in flight at once; /updates?queries=N
// reads N rows so, gives each a new random number and writes them back in one statement; /fortunes renders the
// Fortune table, plus one row added at request time, sorted, as an HTML table (the template escapes the
// messages). Every statement goes through the pool, which pipelines the single statements of all requests on an
// event loop over one shared PostgreSQL connection, each with a Sync (its own implicit transaction) of its own.
#include <zephyr/db.hpp>
#include <zephyr/view/template.hpp>
#include <zephyr/zephyr.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <exception>
#include <utility>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

struct message {
    std::string message;
};
BOOST_DESCRIBE_STRUCT(message, (), (message))

struct world {
    std::int32_t id = 0;
    std::int32_t randomNumber = 0;
};
BOOST_DESCRIBE_STRUCT(world, (), (id, randomNumber))

struct fortune {
    std::int32_t id = 0;
    std::string message;
};
BOOST_DESCRIBE_STRUCT(fortune, (), (id, message))

struct fortunes_page {
    std::vector<fortune> fortunes;
};
BOOST_DESCRIBE_STRUCT(fortunes_page, (), (fortunes))


namespace {

std::int32_t random_id() {
    thread_local std::minstd_rand rng{std::random_device{}()};
    return static_cast<std::int32_t>(1 + rng() % 10000);
}

// The rules: a missing or non-numeric count means 1, and the count is clamped to 1..500.
int query_count(const zephyr::Request& req) {
    const auto q = req.query("queries");
    if (!q) return 1;
    int n = 0;
    for (char c : *q) {
        if (c < '0' || c > '9') return 1;
        n = std::min(n * 10 + (c - '0'), 1000);
    }
    return std::clamp(n, 1, 500);
}

// UPDATE world SET randomnumber = CASE id WHEN ? THEN ? ... END WHERE id IN (?, ...), one text per row count.
const std::string& update_sql(int n) {
    static const std::vector<std::string> texts = [] {
        std::vector<std::string> out(501);
        for (int k = 1; k <= 500; ++k) {
            std::string s = "UPDATE world SET randomnumber = CASE id";
            for (int i = 0; i < k; ++i) s += " WHEN ? THEN ?";
            s += " END WHERE id IN (";
            for (int i = 0; i < k; ++i) s += i ? ",?" : "?";
            s += ")";
            out[static_cast<std::size_t>(k)] = std::move(s);
        }
        return out;
    }();
    return texts[static_cast<std::size_t>(n)];
}

const char* const fortunes_html =
    "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr>"
    "{{#fortunes}}<tr><td>{{id}}</td><td>{{message}}</td></tr>{{/fortunes}}</table></body></html>";

const char* const world_by_id = "SELECT id, randomnumber FROM world WHERE id = ?";

// `n` random worlds, read with `n` statements in flight at once (the pool pipelines them over the event loop's
// shared connection, each with a Sync of its own).
zephyr::Task<std::vector<world>> random_worlds(zephyr::db::Pool& pool, int n) {
    namespace asio = boost::asio;
    const auto ex = co_await asio::this_coro::executor;
    using read = decltype(asio::co_spawn(ex, std::declval<zephyr::Task<world>>(), asio::deferred));
    std::vector<read> reads;
    reads.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        reads.push_back(asio::co_spawn(ex, pool.query_one<world>(world_by_id, random_id()), asio::deferred));
    auto done = co_await asio::experimental::make_parallel_group(std::move(reads))
                    .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    for (const std::exception_ptr& e : std::get<1>(done))
        if (e) std::rethrow_exception(e);
    co_return std::move(std::get<2>(done));
}

}  // namespace

int main(int argc, char** argv) {
    zephyr::App app;
    app.get("/plaintext", [] { return zephyr::Response::text("Hello, World!"); });
    app.get("/json", []() -> zephyr::Json<message> { return message{"Hello, World!"}; });
    app.get("/json-by-hand", [] {
        boost::json::object o;
        o["message"] = "Hello, World!";
        return zephyr::Response::json(boost::json::serialize(o));
    });

    if (const char* url = std::getenv("DATABASE_URL")) {
        namespace db = zephyr::db;
        using zephyr::Inject;
        using zephyr::Json;
        using zephyr::Task;
        const char* size = std::getenv("DB_POOL_SIZE");
        app.provide(std::make_shared<db::Pool>(
            url, db::pool_options{.max_size = size ? static_cast<std::size_t>(std::atoi(size)) : 64}));

        app.get("/db", [](Inject<db::Pool> pool) -> Task<Json<world>> {
            co_return co_await pool->query_one<world>(world_by_id, random_id());
        });
        app.get("/queries", [](zephyr::Request& req, Inject<db::Pool> pool) -> Task<Json<std::vector<world>>> {
            co_return co_await random_worlds(*pool, query_count(req));
        });
        app.get("/updates", [](zephyr::Request& req, Inject<db::Pool> pool) -> Task<Json<std::vector<world>>> {
            const int n = query_count(req);
            std::vector<world> out = co_await random_worlds(*pool, n);
            for (world& w : out) w.randomNumber = random_id();
            // One statement for all rows, in id order so concurrent updates lock rows in the same order.
            std::vector<world> sorted = out;
            std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.id < b.id; });
            db::Params params;
            params.reserve(static_cast<std::size_t>(3 * n));
            for (const auto& w : sorted) {
                params.push_back(db::field<std::int32_t>::to_value(w.id));
                params.push_back(db::field<std::int32_t>::to_value(w.randomNumber));
            }
            for (const auto& w : sorted) params.push_back(db::field<std::int32_t>::to_value(w.id));
            co_await pool->run(update_sql(n), std::move(params), nullptr);
            co_return out;
        });
        app.get("/fortunes", [page = zephyr::view::Template::compile(fortunes_html, "fortunes")](
                                 Inject<db::Pool> pool) -> Task<zephyr::Html> {
            fortunes_page data;
            data.fortunes = co_await pool->query<fortune>("SELECT id, message FROM fortune");
            data.fortunes.push_back(fortune{0, "Additional fortune added at request time."});
            std::sort(data.fortunes.begin(), data.fortunes.end(),
                      [](const fortune& a, const fortune& b) { return a.message < b.message; });
            co_return zephyr::Html{page.render(data)};
        });
    }
    return app.run(argc, argv);
}
