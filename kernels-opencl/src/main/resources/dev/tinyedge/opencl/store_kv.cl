// Writes the keys or values of the n_tokens tokens just evaluated, x [n_tokens][kv_dim], into a layer's KV cache
// (blocks.cl) at their positions' slots: token t at position start_pos + t goes to slot (start_pos + t) % ring.
kernel void store_kv(global const float* x, global kv_t* cache, int start_pos, int kv_dim, int ring, int n) {
    const int i = get_global_id(0);
    if (i >= n) {
        return;
    }
    const int slot = (start_pos + i / kv_dim) % ring;
    store_kv_value(x[i], cache, (size_t) slot * kv_dim + i % kv_dim);
}
