#pragma once
namespace ringscope {
inline constexpr const char* kVersion = "0.1.0";
}
