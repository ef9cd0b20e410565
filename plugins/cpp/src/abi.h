// The slice of the proxy-wasm ABI 0.2.1 this plugin uses, written from the spec
// (github.com/proxy-wasm/spec, abi-versions/v0.2.1). Every size_t/pointer is an i32 on wasm32.
#pragma once
#include <cstddef>
#include <cstdint>

#define PROXY_IMPORT(name) extern "C" __attribute__((import_module("env"), import_name(#name)))
#define PROXY_EXPORT(name) extern "C" __attribute__((export_name(#name)))

enum LogLevel : int32_t { kTrace = 0, kDebug = 1, kInfo = 2, kWarn = 3, kError = 4, kCritical = 5 };
enum Status : int32_t { kOk = 0, kNotFound = 1 };
enum Action : int32_t { kContinue = 0, kPause = 1 };
enum BufferType : int32_t { kRequestBody = 0, kVmConfiguration = 6, kPluginConfiguration = 7 };
enum MapType : int32_t { kRequestHeaders = 0 };

// Host functions. Values the host returns through `char**` are allocated with
// proxy_on_memory_allocate (malloc here) and must be free()d by the plugin.
PROXY_IMPORT(proxy_log) Status proxy_log(LogLevel level, const char* msg, size_t size);
PROXY_IMPORT(proxy_get_buffer_bytes)
Status proxy_get_buffer_bytes(BufferType type, size_t start, size_t max_size, char** data, size_t* size);
PROXY_IMPORT(proxy_get_property)
Status proxy_get_property(const char* path, size_t path_size, char** data, size_t* size);
PROXY_IMPORT(proxy_get_header_map_value)
Status proxy_get_header_map_value(MapType map, const char* key, size_t key_size, char** data, size_t* size);
PROXY_IMPORT(proxy_add_header_map_value)
Status proxy_add_header_map_value(MapType map, const char* key, size_t key_size, const char* value, size_t value_size);
PROXY_IMPORT(proxy_remove_header_map_value)
Status proxy_remove_header_map_value(MapType map, const char* key, size_t key_size);
// headers: serialized map (u32 count, then u32 key/value lengths, then "key\0value\0"); size 0 = none.
// grpc_status -1 = not a gRPC reply.
PROXY_IMPORT(proxy_send_local_response)
Status proxy_send_local_response(uint32_t status_code, const char* details, size_t details_size, const char* body,
                                 size_t body_size, const char* headers, size_t headers_size, int32_t grpc_status);
