// big_array.h — a growable array for the model's per-event arrays (hundreds
// of megabytes for a 10 M event trace).
//
// Why not std::vector: a vector that grows to N bytes copies about N bytes
// on the way and touches about 2N bytes of fresh pages, and shrink_to_fit
// copies everything once more; for the viewer's arrays that was a third of
// the time to open a big trace. This array grows with realloc: glibc keeps
// every block above its mmap threshold (32 MiB at most) in a mapping of its
// own and resizes it with mremap, which moves page tables instead of bytes,
// in both directions. Only for trivially copyable T.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <utility>

namespace ringscope::viewer {

template <typename T>
class BigArray {
  static_assert(std::is_trivially_copyable_v<T>, "BigArray moves its elements with realloc");

 public:
  BigArray() = default;
  BigArray(const BigArray&) = delete;
  BigArray& operator=(const BigArray&) = delete;
  BigArray(BigArray&& o) noexcept { swap(o); }
  BigArray& operator=(BigArray&& o) noexcept {
    BigArray(std::move(o)).swap(*this);
    return *this;
  }
  ~BigArray() { std::free(data_); }
  void swap(BigArray& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(cap_, o.cap_);
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return cap_; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  T& back() { return data_[size_ - 1]; }

  void push_back(const T& v) {
    if (size_ == cap_) reserve(size_ + 1);
    data_[size_++] = v;
  }
  // Room for `n` more elements at end(), for a caller that writes them
  // through a pointer and then calls grow_by() with how many it wrote.
  T* tail(size_t n) {
    if (cap_ - size_ < n) reserve(size_ + n);
    return data_ + size_;
  }
  void grow_by(size_t n) { size_ += n; }
  void clear() { size_ = 0; }

  void reserve(size_t n) {
    if (n > cap_) resize_block(std::max({n, 2 * cap_, size_t{64}}));
  }
  void shrink_to_fit() {
    if (size_ < cap_) resize_block(size_);
  }

 private:
  void resize_block(size_t n) {
    if (n == 0) {
      std::free(data_);
      data_ = nullptr;
      cap_ = 0;
      return;
    }
    void* p = std::realloc(data_, n * sizeof(T));
    if (p == nullptr) throw std::bad_alloc();  // as std::vector would
    data_ = static_cast<T*>(p);
    cap_ = n;
  }

  T* data_ = nullptr;
  size_t size_ = 0;
  size_t cap_ = 0;
};

}  // namespace ringscope::viewer
