// The prepared statements of one MariaDB/MySQL connection, keyed by their SQL text, least recently used first
// out. The cache only bookkeeps handles; closing them (a round trip's worth of I/O) is the connection's job.
#pragma once

#include <mysql.h>

#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace zephyr::db::detail {

class mysql_statement_cache {
public:
    explicit mysql_statement_cache(std::size_t capacity) : capacity_{capacity} {}

    std::size_t capacity() const noexcept { return capacity_; }
    std::size_t size() const noexcept { return order_.size(); }

    /// The statement prepared for `sql`, now the most recently used one, or nullptr.
    MYSQL_STMT* find(std::string_view sql) {
        auto it = index_.find(sql);
        if (it == index_.end()) return nullptr;
        order_.splice(order_.begin(), order_, it->second);
        return it->second->second;
    }

    /// Adds `stmt` for `sql` (not yet cached; capacity() > 0). Returns the statement it pushed out, which the
    /// caller must close, or nullptr.
    MYSQL_STMT* add(std::string_view sql, MYSQL_STMT* stmt) {
        MYSQL_STMT* evicted = nullptr;
        if (order_.size() >= capacity_) {
            evicted = order_.back().second;
            index_.erase(std::string_view{order_.back().first});
            order_.pop_back();
        }
        order_.emplace_front(std::string{sql}, stmt);
        index_.emplace(std::string_view{order_.front().first}, order_.begin());
        return evicted;
    }

    /// Forgets `sql` (its statement failed in a way that makes it unusable); returns its statement or nullptr.
    MYSQL_STMT* remove(std::string_view sql) {
        auto it = index_.find(sql);
        if (it == index_.end()) return nullptr;
        MYSQL_STMT* stmt = it->second->second;
        order_.erase(it->second);
        index_.erase(it);
        return stmt;
    }

    /// Empties the cache, handing over every statement.
    std::vector<MYSQL_STMT*> take_all() {
        std::vector<MYSQL_STMT*> out;
        out.reserve(order_.size());
        for (auto& e : order_)
            out.push_back(e.second);
        index_.clear();
        order_.clear();
        return out;
    }

private:
    using entry = std::pair<std::string, MYSQL_STMT*>;
    std::size_t capacity_;
    std::list<entry> order_;  // most recently used first; list nodes keep the key strings in place
    std::unordered_map<std::string_view, std::list<entry>::iterator> index_;  // views into order_'s keys
};

}  // namespace zephyr::db::detail
