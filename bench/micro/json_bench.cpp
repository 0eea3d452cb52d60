// Typed extraction and serialization of a 10-field struct, against doing the same by hand with Boost.JSON
// and from_chars in the same run.
#include <zephyr/zephyr.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <benchmark/benchmark.h>

#include <charconv>
#include <string>

namespace {

struct profile {
    std::int64_t id = 0;
    std::string name;
    std::string email;
    int age = 0;
    bool active = false;
    double score = 0;
    std::string city;
    std::string country;
    int visits = 0;
    std::string plan;
};

const char* body_text =
    R"({"id":12345,"name":"Ada Lovelace","email":"ada@example.com","age":36,"active":true,"score":97.5,)"
    R"("city":"London","country":"UK","visits":1024,"plan":"pro"})";
const char* query_text =
    "id=12345&name=Ada+Lovelace&email=ada%40example.com&age=36&active=true&score=97.5&city=London&country=UK"
    "&visits=1024&plan=pro";

BOOST_DESCRIBE_STRUCT(profile, (), (id, name, email, age, active, score, city, country, visits, plan))

profile by_hand(const boost::json::object& o) {
    profile p;
    p.id = o.at("id").to_number<std::int64_t>();
    p.name = o.at("name").as_string();
    p.email = o.at("email").as_string();
    p.age = o.at("age").to_number<int>();
    p.active = o.at("active").as_bool();
    p.score = o.at("score").to_number<double>();
    p.city = o.at("city").as_string();
    p.country = o.at("country").as_string();
    p.visits = o.at("visits").to_number<int>();
    p.plan = o.at("plan").as_string();
    return p;
}

void BM_JsonBodyTyped(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(zephyr::json::parse<profile>(body_text));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_JsonBodyTyped);

void BM_JsonBodyByHand(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(by_hand(boost::json::parse(body_text).as_object()));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_JsonBodyByHand);

void BM_QueryTyped(benchmark::State& state) {
    zephyr::Request req;
    std::string target = std::string{"/p?"} + query_text;
    for (auto _ : state) {
        req.set_target(target);  // drops the cached pairs, as a new request would
        benchmark::DoNotOptimize(zephyr::Query<profile>::extract(req));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_QueryTyped);

void BM_QueryByHand(benchmark::State& state) {
    auto num = [](const std::string& s, auto& out) { std::from_chars(s.data(), s.data() + s.size(), out); };
    for (auto _ : state) {
        profile p;
        for (auto& [k, v] : zephyr::http::parse_urlencoded(query_text)) {
            if (k == "id") num(v, p.id);
            else if (k == "name") p.name = std::move(v);
            else if (k == "email") p.email = std::move(v);
            else if (k == "age") num(v, p.age);
            else if (k == "active") p.active = v == "true";
            else if (k == "score") num(v, p.score);
            else if (k == "city") p.city = std::move(v);
            else if (k == "country") p.country = std::move(v);
            else if (k == "visits") num(v, p.visits);
            else if (k == "plan") p.plan = std::move(v);
        }
        benchmark::DoNotOptimize(p);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_QueryByHand);

void BM_SerializeTyped(benchmark::State& state) {
    profile p = zephyr::json::parse<profile>(body_text);
    for (auto _ : state) benchmark::DoNotOptimize(zephyr::json::to_string(p));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SerializeTyped);

void BM_SerializeByHand(benchmark::State& state) {
    profile p = zephyr::json::parse<profile>(body_text);
    for (auto _ : state) {
        boost::json::object o;
        o["id"] = p.id;
        o["name"] = p.name;
        o["email"] = p.email;
        o["age"] = p.age;
        o["active"] = p.active;
        o["score"] = p.score;
        o["city"] = p.city;
        o["country"] = p.country;
        o["visits"] = p.visits;
        o["plan"] = p.plan;
        benchmark::DoNotOptimize(boost::json::serialize(o));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SerializeByHand);

}  // namespace
