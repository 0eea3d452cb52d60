// zephyr/http/extensions.hpp — typed values attached to a request by layers.
//
// One value per type, no string keys: a layer stores a value and later code reads it by type.
//
//     struct request_id { std::string value; };
//     req.extensions().insert(request_id{"abc"});
//     if (auto* id = req.extensions().get<request_id>()) log(id->value);
#pragma once

#include <memory>
#include <utility>
#include <vector>

namespace zephyr::http {

/// A small map from type to value. Lookups are a linear scan over the few values a request carries.
class extensions {
public:
    /// Stores `value`, replacing any earlier value of the same type; returns a reference to the stored value.
    template <class T>
    T& insert(T value) {
        using U = std::decay_t<T>;
        for (auto& e : entries_)
            if (e.key == key<U>()) return *static_cast<U*>(e.value.get()) = std::move(value);
        auto p = std::make_shared<U>(std::move(value));
        U& ref = *p;
        entries_.push_back({key<U>(), std::move(p)});
        return ref;
    }
    /// The stored value of type T, or nullptr.
    template <class T>
    T* get() noexcept {
        for (auto& e : entries_)
            if (e.key == key<T>()) return static_cast<T*>(e.value.get());
        return nullptr;
    }
    template <class T>
    const T* get() const noexcept {
        return const_cast<extensions*>(this)->get<T>();
    }
    /// Removes the value of type T; returns whether there was one.
    template <class T>
    bool remove() noexcept {
        for (auto it = entries_.begin(); it != entries_.end(); ++it)
            if (it->key == key<T>()) {
                entries_.erase(it);
                return true;
            }
        return false;
    }
    bool empty() const noexcept { return entries_.empty(); }

private:
    template <class T>
    struct tag {
        static constexpr char id = 0;
    };
    template <class T>
    static const void* key() noexcept {
        return &tag<T>::id;
    }
    struct entry {
        const void* key;
        std::shared_ptr<void> value;
    };
    std::vector<entry> entries_;
};

}  // namespace zephyr::http
