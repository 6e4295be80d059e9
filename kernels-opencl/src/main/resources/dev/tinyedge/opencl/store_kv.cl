// Writes n values of x into a layer's KV cache (blocks.cl) from element offset on: the keys or values of
// the tokens just evaluated, at their positions.
kernel void store_kv(global const float* x, global kv_t* cache, int offset, int n) {
    const int i = get_global_id(0);
    if (i >= n) {
        return;
    }
    store_kv_value(x[i], cache, (size_t) offset + i);
}
