// zephyr/db/detail/map.hpp — reading a row into a described struct, a tuple or a scalar. Not API.
#pragma once

#include <zephyr/db/value.hpp>

#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace zephyr::db::detail {

template <class T>
struct is_tuple_like : std::false_type {};
template <class... Ts>
struct is_tuple_like<std::tuple<Ts...>> : std::true_type {};
template <class A, class B>
struct is_tuple_like<std::pair<A, B>> : std::true_type {};

// std::conjunction stops at the first false member, so has_describe_members is only asked about user classes.
template <class T>
inline constexpr bool is_described_struct =
    std::conjunction_v<std::is_class<T>, std::negation<is_tuple_like<T>>, std::negation<std::is_same<T, std::string>>,
                       boost::describe::has_describe_members<T>>;

template <class T>
using members_of = boost::describe::describe_members<T, boost::describe::mod_public | boost::describe::mod_inherited>;

// Members shaped like relations (std::vector<Struct>, std::optional<Struct>) are filled by eager loading, not
// read from columns.
template <class T>
struct is_relation_shape : std::false_type {};
template <class T>
struct is_relation_shape<std::vector<T>> : std::bool_constant<is_described_struct<T>> {};
template <class T>
struct is_relation_shape<std::optional<T>> : std::bool_constant<is_described_struct<T>> {};

template <class P>
struct pointee;
template <class M, class C>
struct pointee<M C::*> {
    using type = M;
};

template <class D>
using is_column_member =
    std::negation<is_relation_shape<typename pointee<std::remove_cv_t<decltype(D::pointer)>>::type>>;

/// The described members of T that are columns.
template <class T>
using column_members_of = boost::mp11::mp_copy_if<members_of<T>, is_column_member>;

/// Finds the column for each member name: exact match first, then ignoring ASCII case (PostgreSQL folds
/// unquoted names to lower case). Throws db::Error (bad_result) naming the struct and the missing member.
void find_columns(const Row& row, const std::string_view* names, std::size_t* out, std::size_t n,
                  std::string_view type_name);
/// Throws db::Error (bad_result): the row has fewer columns than the tuple has elements.
[[noreturn]] void too_few_columns(const Row& row, std::size_t wanted);

template <class T>
constexpr auto member_names() {
    std::array<std::string_view, boost::mp11::mp_size<column_members_of<T>>::value> names{};
    std::size_t i = 0;
    boost::mp11::mp_for_each<column_members_of<T>>([&](auto d) { names[i++] = d.name; });
    return names;
}

/// Reads rows of one result into T. Column positions for a struct are looked up once, on the first row.
template <class T>
class row_reader {
public:
    T read(const Row& row) {
        if constexpr (is_described_struct<T>) {
            static constexpr auto names = member_names<T>();
            if (!ready_) {
                // Remembered per thread for the last shape read into T: a statement that runs again and again
                // looks its columns up once.
                struct remembered {
                    std::uint64_t shape = 0;
                    decltype(columns_) columns{};
                };
                static thread_local remembered last;
                const std::uint64_t shape = row.shape();
                if (shape != 0 && last.shape == shape) {
                    columns_ = last.columns;
                } else {
                    find_columns(row, names.data(), columns_.data(), names.size(), typeid(T).name());
                    if (shape != 0) last = remembered{shape, columns_};
                }
                ready_ = true;
            }
            T out{};
            std::size_t k = 0;
            boost::mp11::mp_for_each<column_members_of<T>>([&](auto d) {
                using M = std::remove_cvref_t<decltype(out.*d.pointer)>;
                out.*d.pointer = row.get<M>(columns_[k++]);
            });
            return out;
        } else if constexpr (is_tuple_like<T>::value) {
            constexpr std::size_t n = std::tuple_size_v<T>;
            if (row.size() < n) too_few_columns(row, n);
            return [&]<std::size_t... I>(std::index_sequence<I...>) {
                return T{row.get<std::tuple_element_t<I, T>>(I)...};
            }(std::make_index_sequence<n>{});
        } else {
            static_assert(readable<T>,
                          "db: a query's result type must be a described struct (BOOST_DESCRIBE_STRUCT), a std::tuple "
                          "or std::pair, or a type zephyr::db::field<T> reads from one column");
            if (row.size() < 1) too_few_columns(row, 1);
            return row.get<T>(0);
        }
    }

private:
    template <class U, bool = is_described_struct<U>>
    struct slots {};
    template <class U>
    struct slots<U, true> {
        using type = std::array<std::size_t, boost::mp11::mp_size<column_members_of<U>>::value>;
    };
    struct none {};
    template <class U>
    static auto pick(int) -> typename slots<U>::type;
    template <class U>
    static auto pick(...) -> none;
    [[no_unique_address]] decltype(pick<T>(0)) columns_{};
    bool ready_ = false;
};

}  // namespace zephyr::db::detail
