#!/usr/bin/env node
// Turns bench/run.sh's measurements into one Markdown table: medians over the repeated runs, tinyedge's speed as a
// ratio of llama.cpp's (no-AMX build, the fair CPU comparison), and decoding speed as a share of the bandwidth limit.
//
//   node bench/report.mjs RUNS.jsonl BANDWIDTH.jsonl NAME=MODEL.gguf...
//
// RUNS.jsonl: one bench result per line, {"model":NAME,"engine":..,"threads":n,"prefill_tok_s":..,"decode_tok_s":..,
// "peak_rss_mb":..}. BANDWIDTH.jsonl: bench/bandwidth.c's lines, one per thread count.
//
// Bandwidth limit: decoding one token reads every weight once, except the token embedding, of which it reads one
// row (when the output head is a tensor of its own). So limit tok/s = read bandwidth / those bytes, using the
// bandwidth measured with the same number of threads. The KV cache read per token (under 1% here) is left out.
import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const LLAMA_NO_AMX = "llama.cpp no-AMX";

function jsonLines(path) {
    return readFileSync(path, "utf8").split("\n").filter(l => l.trim()).map(l => JSON.parse(l));
}

function median(values) {
    const v = values.filter(x => Number.isFinite(x)).sort((a, b) => a - b);
    if (v.length === 0)
        return NaN;
    const mid = v.length >> 1;
    return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Bytes one decoded token reads from the weights, from the file's tensor table (tensor sizes by their offsets). */
async function weightBytesPerToken(modelPath) {
    const entry = createRequire(join(here, "..", "tests", "node", "package.json")).resolve("node-llama-cpp");
    const { readGgufFileInfo } = await import(pathToFileURL(entry).href);
    const info = await readGgufFileInfo(modelPath, { logWarnings: false });
    const tensors = [...info.fullTensorInfo].sort((a, b) => Number(a.fileOffset) - Number(b.fileOffset));
    const fileSize = statSync(modelPath).size;
    let total = 0, embedding = 0, embeddingRows = 1, tiedOutput = true;
    tensors.forEach((t, i) => {
        const end = i + 1 < tensors.length ? Number(tensors[i + 1].fileOffset) : fileSize;
        const bytes = end - Number(t.fileOffset);
        total += bytes;
        if (t.name === "token_embd.weight") {
            embedding = bytes;
            embeddingRows = Number(t.dimensions[1]);
        }
        if (t.name === "output.weight")
            tiedOutput = false;
    });
    return tiedOutput ? total + embedding / embeddingRows : total - embedding + embedding / embeddingRows;
}

/** What computed the products: tinyedge's "native avx512-vnni" or "java 512-bit", llama.cpp's ggml CPU variant. */
function kernelsOf(run) {
    const tinyedge = /(native \S+|java \d+-bit)/.exec(run.backend_description ?? "");
    if (tinyedge)
        return tinyedge[1];
    const variant = /libggml-cpu-(\S+)\.so/.exec(run.cpu_backend ?? "");
    return variant ? variant[1] : "?";
}

function fixed(x, digits) {
    return Number.isFinite(x) ? x.toFixed(digits) : "–";
}

async function main() {
    const [runsFile, bandwidthFile, ...modelArgs] = process.argv.slice(2);
    if (!runsFile || !bandwidthFile || modelArgs.length === 0) {
        process.stderr.write("usage: node bench/report.mjs RUNS.jsonl BANDWIDTH.jsonl NAME=MODEL.gguf...\n");
        process.exit(2);
    }
    const runs = jsonLines(runsFile);
    const bandwidth = new Map(jsonLines(bandwidthFile).map(b => [b.threads, b.read_gb_s * 1e9]));
    const models = modelArgs.map(a => a.split("=")).map(([name, path]) => ({ name, path }));
    for (const m of models)
        m.bytesPerToken = await weightBytesPerToken(m.path);

    // medians per (model, engine, threads), in the order the runs came
    const groups = new Map();
    for (const r of runs) {
        const key = `${r.model}|${r.engine}|${r.threads}`;
        if (!groups.has(key))
            groups.set(key, { model: r.model, engine: r.engine, threads: r.threads, runs: [] });
        groups.get(key).runs.push(r);
    }
    const rows = [...groups.values()].map(g => ({
        ...g,
        prefill: median(g.runs.map(r => r.prefill_tok_s)),
        decode: median(g.runs.map(r => r.decode_tok_s)),
        rss: median(g.runs.map(r => r.peak_rss_mb)),
        kernels: [...new Set(g.runs.map(kernelsOf))].join(", "),
    }));
    const reference = (row) => rows.find(r => r.model === row.model && r.threads === row.threads && r.engine === LLAMA_NO_AMX);

    const lines = [
        "| model | threads | engine | kernels | prefill tok/s | decode tok/s | prefill ÷ llama.cpp no-AMX | decode ÷ llama.cpp no-AMX | decode % of bandwidth limit | peak RSS MB | runs |",
        "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ];
    for (const row of rows) {
        const model = models.find(m => m.name === row.model);
        const ref = reference(row);
        const limit = bandwidth.get(row.threads) / model.bytesPerToken;
        lines.push(`| ${row.model} | ${row.threads} | ${row.engine} | ${row.kernels} | ${fixed(row.prefill, 1)} | ${fixed(row.decode, 2)} | `
            + `${fixed(ref ? row.prefill / ref.prefill : NaN, 2)} | ${fixed(ref ? row.decode / ref.decode : NaN, 2)} | `
            + `${fixed(100 * row.decode / limit, 0)}% | ${fixed(row.rss, 0)} | ${row.runs.length} |`);
    }
    lines.push("");
    for (const m of models)
        lines.push(`- ${m.name}: ${(m.bytesPerToken / 1e6).toFixed(1)} MB of weights read per decoded token`);
    for (const [threads, bytes] of [...bandwidth].sort((a, b) => a[0] - b[0]))
        lines.push(`- read bandwidth, ${threads} thread${threads === 1 ? "" : "s"}: ${(bytes / 1e9).toFixed(2)} GB/s `
            + `(decode limit ${models.map(m => `${m.name} ${(bytes / m.bytesPerToken).toFixed(1)} tok/s`).join(", ")})`);
    process.stdout.write(lines.join("\n") + "\n");
}

main().catch(e => {
    process.stderr.write(`report.mjs: error: ${e.message}\n`);
    process.exit(1);
});
