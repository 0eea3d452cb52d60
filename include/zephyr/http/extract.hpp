// zephyr/http/extract.hpp — every built-in extractor.
//
//     #include <zephyr/http/extract.hpp>   // (zephyr/zephyr.hpp includes it)
//     app.get("/users/{id}", [](zephyr::Path<int> id, zephyr::Header<"Accept"> a) { ... });
#pragma once

#include <zephyr/http/extract/body_stream.hpp>
#include <zephyr/http/extract/ext.hpp>
#include <zephyr/http/extract/extractor.hpp>
#include <zephyr/http/extract/header.hpp>
#include <zephyr/http/extract/json.hpp>
#include <zephyr/http/extract/path.hpp>
#include <zephyr/http/services.hpp>
