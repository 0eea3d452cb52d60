// The ORM's cost over raw libpq: 20 rows of the TechEmpower `world` table (bench/techempower/schema.sql) read
// into a vector of described structs, one statement at a time, against the same PostgreSQL server and with the
// same query. Needs DATABASE_URL (scripts/bench-db.sh starts a throwaway server and sets it); without it every
// benchmark is skipped.
//
// - BM_ZephyrPoolQuery: `co_await pool.query<world>(sql, a, a + 19)` on a db::Pool with default options, driven by
//   one Asio event loop on this thread: the statement goes over the loop's shared connection in libpq's pipeline
//   mode (PQsendQueryPrepared + PQpipelineSync after a PQprepare the first time), the loop waits for the socket
//   with epoll, and the rows are read through db::Row into the struct.
// - BM_ZephyrPooledQuery: the same with `pool_options::share_connections = false`: each statement borrows a
//   pooled connection instead.
// - BM_LibpqExecPrepared: the blocking libpq call a hand-written client would make, PQexecPrepared on a statement
//   prepared once (parameters as text, typed int4 at PQprepare), then PQgetvalue + std::from_chars per column
//   into the same struct (the vector reserved to PQntuples).
// - BM_LibpqAsyncPipeline: the calls Zephyr's shared connection makes, by hand: pipeline mode,
//   PQsendQueryPrepared + PQpipelineSync, waiting for the socket on the same kind of Asio event loop, then
//   PQconsumeInput/PQgetResult and the same row loop as above.
//
// Every benchmark runs its statements sequentially (the next starts when the previous one's rows are in the
// vector). Real time is the round trip as the caller sees it; CPU time is this process's own work (the
// server's is not counted), which is where a client library's overhead shows.
#include <zephyr/core/task.hpp>
#include <zephyr/db.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/describe/class.hpp>

#include <benchmark/benchmark.h>
#include <libpq-fe.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct world {
    std::int32_t id = 0;
    std::int32_t randomNumber = 0;
};
BOOST_DESCRIBE_STRUCT(world, (), (id, randomNumber))

namespace db = zephyr::db;
namespace asio = boost::asio;

const char* const zephyr_sql = "SELECT id, randomnumber FROM world WHERE id BETWEEN ? AND ?";
const char* const libpq_sql = "SELECT id, randomnumber FROM world WHERE id BETWEEN $1 AND $2";
constexpr int rows_per_query = 20;

const char* database_url() {
    return std::getenv("DATABASE_URL");
}

// The first id of a random run of 20 ids within 1..10000.
std::int32_t random_start() {
    static std::minstd_rand rng{12345};
    return static_cast<std::int32_t>(1 + rng() % (10000 - rows_per_query + 1));
}

// One event loop for the whole program, run by this thread: the pool's shared connection belongs to it.
asio::io_context& loop() {
    static asio::io_context ioc{1};
    return ioc;
}

// Runs `task` to completion on loop().
void run(zephyr::Task<void> task) {
    std::exception_ptr error;
    loop().restart();
    asio::co_spawn(loop(), std::move(task), [&](std::exception_ptr e) { error = e; });
    loop().run();
    if (error) std::rethrow_exception(error);
}

zephyr::Task<void> zephyr_loop(benchmark::State& state, db::Pool& pool) {
    // Connects and prepares outside the timed loop, as the libpq benchmarks do before theirs.
    (void)co_await pool.query<world>(zephyr_sql, 1, rows_per_query);
    std::int64_t rows = 0;
    for (auto _ : state) {
        const std::int32_t a = random_start();
        std::vector<world> out = co_await pool.query<world>(zephyr_sql, a, a + rows_per_query - 1);
        rows += static_cast<std::int64_t>(out.size());
        benchmark::DoNotOptimize(out.data());
    }
    if (rows != static_cast<std::int64_t>(state.iterations()) * rows_per_query)
        state.SkipWithError("a query did not return 20 rows");
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void zephyr_bench(benchmark::State& state, bool share) {
    const char* url = database_url();
    if (url == nullptr) {
        state.SkipWithError("DATABASE_URL is not set");
        return;
    }
    // Kept for the whole program, so the connections opened by the first run serve the later ones.
    static std::unique_ptr<db::Pool> shared, pooled;
    auto& pool = share ? shared : pooled;
    if (!pool) pool = std::make_unique<db::Pool>(url, db::pool_options{.max_size = 1, .share_connections = share});
    run(zephyr_loop(state, *pool));
}

void BM_ZephyrPoolQuery(benchmark::State& state) {
    zephyr_bench(state, true);
}
void BM_ZephyrPooledQuery(benchmark::State& state) {
    zephyr_bench(state, false);
}

// A libpq connection with the statement prepared, or nullptr (and the benchmark skipped) on failure.
PGconn* libpq_connection(benchmark::State& state, bool pipeline) {
    const char* url = database_url();
    if (url == nullptr) {
        state.SkipWithError("DATABASE_URL is not set");
        return nullptr;
    }
    PGconn* conn = PQconnectdb(url);
    if (PQstatus(conn) != CONNECTION_OK) {
        state.SkipWithError(PQerrorMessage(conn));
        PQfinish(conn);
        return nullptr;
    }
    const Oid types[2] = {23, 23};  // int4
    PGresult* r = PQprepare(conn, "world20", libpq_sql, 2, types);
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok || (pipeline && (PQsetnonblocking(conn, 1) != 0 || PQenterPipelineMode(conn) != 1))) {
        state.SkipWithError(PQerrorMessage(conn));
        PQfinish(conn);
        return nullptr;
    }
    return conn;
}

// The rows of `r` into `out`, as a hand-written client would read them.
bool read_worlds(const PGresult* r, std::vector<world>& out) {
    if (PQresultStatus(r) != PGRES_TUPLES_OK) return false;
    const int n = PQntuples(r);
    out.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        world w;
        const char* id = PQgetvalue(r, i, 0);
        const char* rn = PQgetvalue(r, i, 1);
        std::from_chars(id, id + PQgetlength(r, i, 0), w.id);
        std::from_chars(rn, rn + PQgetlength(r, i, 1), w.randomNumber);
        out.push_back(w);
    }
    return true;
}

// The two parameters as text.
struct params {
    explicit params(std::int32_t a) {
        values[0] = buf[0];
        values[1] = buf[1];
        *std::to_chars(buf[0], buf[0] + 15, a).ptr = '\0';
        *std::to_chars(buf[1], buf[1] + 15, a + rows_per_query - 1).ptr = '\0';
    }
    char buf[2][16]{};
    const char* values[2]{};
};

void BM_LibpqExecPrepared(benchmark::State& state) {
    PGconn* conn = libpq_connection(state, false);
    if (conn == nullptr) return;
    for (auto _ : state) {
        params p{random_start()};
        PGresult* r = PQexecPrepared(conn, "world20", 2, p.values, nullptr, nullptr, 0);
        std::vector<world> out;
        const bool ok = read_worlds(r, out) && out.size() == rows_per_query;
        PQclear(r);
        if (!ok) {
            state.SkipWithError("a query failed or did not return 20 rows");
            break;
        }
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    PQfinish(conn);
}

zephyr::Task<void> libpq_async_loop(benchmark::State& state, PGconn* conn) {
    asio::posix::stream_descriptor socket{loop(), PQsocket(conn)};
    bool failed = false;
    for (auto _ : state) {
        params p{random_start()};
        if (PQsendQueryPrepared(conn, "world20", 2, p.values, nullptr, nullptr, 0) != 1 || PQpipelineSync(conn) != 1) {
            failed = true;
            break;
        }
        while (PQflush(conn) == 1)
            co_await socket.async_wait(asio::posix::stream_descriptor::wait_write, asio::use_awaitable);
        // The statement's result, its end (a null result), then the Sync's PGRES_PIPELINE_SYNC.
        std::vector<world> out;
        bool synced = false;
        while (!synced) {
            while (PQisBusy(conn) == 1) {
                co_await socket.async_wait(asio::posix::stream_descriptor::wait_read, asio::use_awaitable);
                if (PQconsumeInput(conn) != 1) {
                    failed = true;
                    break;
                }
            }
            if (failed) break;
            PGresult* r = PQgetResult(conn);
            if (r == nullptr) continue;
            const ExecStatusType status = PQresultStatus(r);
            if (status == PGRES_PIPELINE_SYNC) {
                synced = true;
            } else if (!read_worlds(r, out)) {
                failed = true;
            }
            PQclear(r);
        }
        if (failed || out.size() != rows_per_query) {
            failed = true;
            break;
        }
        benchmark::DoNotOptimize(out.data());
    }
    socket.release();  // the descriptor stays libpq's
    if (failed) state.SkipWithError("a query failed or did not return 20 rows");
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_LibpqAsyncPipeline(benchmark::State& state) {
    PGconn* conn = libpq_connection(state, true);
    if (conn == nullptr) return;
    run(libpq_async_loop(state, conn));
    PQfinish(conn);
}

}  // namespace

BENCHMARK(BM_LibpqExecPrepared)->UseRealTime();
BENCHMARK(BM_LibpqAsyncPipeline)->UseRealTime();
BENCHMARK(BM_ZephyrPoolQuery)->UseRealTime();
BENCHMARK(BM_ZephyrPooledQuery)->UseRealTime();
