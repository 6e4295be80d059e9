#!/usr/bin/env node
// llama.cpp as the reference for tinyedge: tokenization, next-token log-probabilities, greedy continuations
// and speed, through node-llama-cpp's CPU prebuilt binaries. One JSON document on stdout; errors are one
// line on stderr starting "oracle: error: " (exit 1 for failures, 2 for usage mistakes).
//
// node-llama-cpp gives probabilities, not raw logits: softmax of the raw logits when sampling greedily
// (temperature 0 builds a sampler chain of the greedy sampler alone, which leaves the logits as they are).
// So ln p(i) - ln p(j) = logit(i) - logit(j), which is what the parity tests compare.
import { parseArgs } from "node:util";
import { readFileSync, existsSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const USAGE = `usage: node oracle.mjs COMMAND MODEL [options]

commands:
  tokenize MODEL --texts FILE.json [--special | --both] [--no-bos]
      FILE.json holds an array of strings; prints an array of token id arrays, tokenized as llama.cpp's
      llama_tokenize does (BOS first when the model asks for it, unless --no-bos; --special turns text
      such as "</s>" into special tokens). --both prints {"plain":[..],"special":[..]}, both ways from one load.
  tokenize-speed MODEL --text-file FILE [--warmup 300] [--repeat 1000]
      times llama_tokenize (plain text, no BOS) on the text of FILE: prints {"tokens":n,"first_ms":x,
      "median_ms":x,"p99_ms":x,"max_ms":x} for the first call and the calls after the warm-up.
  logits MODEL --prompt TEXT [--top K]
      evaluates BOS + prompt tokens; prints {"prompt_tokens":[..],"top":[{"id":n,"lnp":x},..]}, the K (10)
      most likely next tokens, most likely first, with natural-log probabilities.
  logits MODEL --prompts FILE.json [--top K]
      the same for each string of the JSON array in FILE.json, each from an empty cache; prints an array.
  greedy MODEL --prompt TEXT [-n N]
      prints {"prompt_tokens":[..],"tokens":[..]}: N (32) argmax tokens after BOS + prompt. Generation
      does not stop at end-of-sequence tokens: exactly N tokens come back.
  bench MODEL [--prompt-tokens 128] [--gen-tokens 128] [--sequences 1]
      prints {"prefill_tok_s":x,"decode_tok_s":y,"peak_rss_mb":z,...} for one prefill of the prompt tokens
      and the decoding of the generated ones (each with logits and a greedy pick). With --sequences N, N
      sequences of one context do it at once (llama.cpp batches their steps): the rates are aggregates of
      all N, and "total_tok_s" counts the generated tokens over the whole run, prefills included.

options for every command:
  --threads N        CPU threads (default: all ${availableParallelism()})
  --kv-type T        KV cache type, F32 (default, for exact comparisons) or F16 (llama.cpp's default)
  --ctx N            context size (default: what the command needs, rounded up to 256)
  --llama-dir DIR    folder whose node_modules holds node-llama-cpp (default: this script's folder;
                     benchmarks point it at an install that keeps one CPU variant)`;

const COMMON_OPTIONS = {
    threads: { type: "string" },
    "kv-type": { type: "string", default: "F32" },
    ctx: { type: "string" },
    "llama-dir": { type: "string" },
    help: { type: "boolean", short: "h" },
};

const COMMAND_OPTIONS = {
    tokenize: { texts: { type: "string" }, special: { type: "boolean", default: false }, both: { type: "boolean", default: false }, "no-bos": { type: "boolean", default: false } },
    "tokenize-speed": { "text-file": { type: "string" }, warmup: { type: "string", default: "300" }, repeat: { type: "string", default: "1000" } },
    logits: { prompt: { type: "string" }, prompts: { type: "string" }, top: { type: "string", default: "10" } },
    greedy: { prompt: { type: "string" }, n: { type: "string", short: "n", default: "32" } },
    bench: { "prompt-tokens": { type: "string", default: "128" }, "gen-tokens": { type: "string", default: "128" }, sequences: { type: "string", default: "1" } },
};

class UsageError extends Error {}

/** Asked for help: the usage goes to stdout and the exit status is 0. */
class HelpRequest extends Error {}

function positiveInt(name, text) {
    if (!/^[0-9]+$/.test(text ?? "") || Number(text) < 1)
        throw new UsageError(`--${name} wants a positive integer, got '${text}'`);
    return Number(text);
}

function required(options, name) {
    if (options[name] === undefined)
        throw new UsageError(`missing --${name}`);
    return options[name];
}

function parse(argv) {
    const [command, ...rest] = argv;
    if (command === "--help" || command === "-h" || command === "help")
        throw new HelpRequest();
    if (command === undefined)
        throw new UsageError("no command given");
    if (!(command in COMMAND_OPTIONS))
        throw new UsageError(`unknown command '${command}'`);
    let parsed;
    try {
        parsed = parseArgs({ args: rest, options: { ...COMMON_OPTIONS, ...COMMAND_OPTIONS[command] }, allowPositionals: true, strict: true });
    } catch (e) {
        throw new UsageError(e.message);
    }
    const { values, positionals } = parsed;
    if (values.help)
        throw new HelpRequest();
    if (positionals.length !== 1)
        throw new UsageError(`${command} wants exactly one MODEL path, got ${positionals.length}`);
    const model = resolve(positionals[0]);
    if (!existsSync(model) || !statSync(model).isFile())
        throw new Error(`${positionals[0]}: no such file`);
    const kvType = values["kv-type"].toUpperCase();
    if (kvType !== "F32" && kvType !== "F16")
        throw new UsageError(`--kv-type wants F32 or F16, got '${values["kv-type"]}'`);
    return {
        command,
        model,
        values,
        threads: values.threads === undefined ? availableParallelism() : positiveInt("threads", values.threads),
        kvType,
        ctx: values.ctx === undefined ? undefined : positiveInt("ctx", values.ctx),
        llamaDir: resolve(values["llama-dir"] ?? dirname(fileURLToPath(import.meta.url))),
    };
}

async function importNodeLlamaCpp(llamaDir) {
    let entry;
    try {
        entry = createRequire(join(llamaDir, "package.json")).resolve("node-llama-cpp");
    } catch {
        throw new Error(`node-llama-cpp is not installed under ${llamaDir}: run tests/node/install.sh`);
    }
    return import(pathToFileURL(entry).href);
}

/** Loads llama.cpp with the CPU prebuilt binaries only; never builds, never downloads. */
async function loadLlama(nlc) {
    const state = { cpuBackend: null };
    const llama = await nlc.getLlama({
        gpu: false,
        build: "never",
        usePrebuiltBinaries: true,
        progressLogs: false,
        // with no thread cap, a context's "threads" is exactly the number of threads used
        maxThreads: 0,
        // ggml names the CPU variant it loaded at the "log" level; only warnings and errors are shown
        logLevel: nlc.LlamaLogLevel.log,
        logger(level, message) {
            const loaded = /loaded CPU backend from (\S+)/.exec(message);
            if (loaded)
                state.cpuBackend = loaded[1].split("/").pop();
            if (level === "warn" || level === "error" || level === "fatal")
                process.stderr.write(`llama.cpp ${level}: ${message.trimEnd()}\n`);
        },
    });
    return { llama, state };
}

function contextSizeFor(needed, requested) {
    const size = requested ?? Math.ceil(needed / 256) * 256;
    if (size < needed)
        throw new UsageError(`--ctx ${size} is smaller than the ${needed} tokens this run needs`);
    return size;
}

async function loadModel(llama, path, options = {}) {
    try {
        return await llama.loadModel({ modelPath: path, gpuLayers: 0, ...options });
    } catch (e) {
        throw new Error(`${path}: llama.cpp cannot load it (${e.message}; its log above says why)`);
    }
}

/**
 * A context of its own for one run. The parity commands turn flash attention off, so that llama.cpp computes
 * attention the textbook way (softmax of the full score row, then the weighted sum of values) that tinyedge is
 * compared with; the benchmark leaves the choice to llama.cpp, as its users do.
 */
async function createSequence(model, options) {
    return (await createSequences(model, { ...options, sequences: 1 }))[0];
}

/** {@code sequences} sequences of one context, whose evaluations llama.cpp batches into shared steps. */
async function createSequences(model, { threads, kvType, contextSize, flashAttention, sequences }) {
    const context = await model.createContext({
        contextSize,
        sequences,
        threads,
        experimentalKvCacheKeyType: kvType,
        experimentalKvCacheValueType: kvType,
        flashAttention,
        ignoreMemorySafetyChecks: true,
    });
    return Array.from({ length: sequences }, () => context.getSequence());
}

/** Token ids as llama_tokenize(add_special = addBos, parse_special = special) gives them. */
function tokenize(model, text, { special, addBos }) {
    const tokens = model.tokenize(text, special);
    const bos = model.tokens.bos;
    return addBos && model.tokens.shouldPrependBosToken && bos != null ? [bos, ...tokens] : tokens;
}

function promptTokens(model, prompt) {
    return tokenize(model, prompt, { special: false, addBos: true });
}

function readStrings(path) {
    let strings;
    try {
        strings = JSON.parse(readFileSync(path, "utf8"));
    } catch (e) {
        throw new Error(`${path}: ${e.code === "ENOENT" ? "no such file" : e.message}`);
    }
    if (!Array.isArray(strings) || !strings.every(t => typeof t === "string"))
        throw new Error(`${path}: want a JSON array of strings`);
    return strings;
}

async function runTokenize(llama, opts) {
    const texts = readStrings(required(opts.values, "texts"));
    const model = await loadModel(llama, opts.model, { vocabOnly: true });
    const all = special => texts.map(t => tokenize(model, t, { special, addBos: !opts.values["no-bos"] }));
    return opts.values.both ? { plain: all(false), special: all(true) } : all(opts.values.special);
}

async function runTokenizeSpeed(llama, opts) {
    const path = required(opts.values, "text-file");
    let text;
    try {
        text = readFileSync(path, "utf8");
    } catch (e) {
        throw new Error(`${path}: ${e.code === "ENOENT" ? "no such file" : e.message}`);
    }
    const warmup = positiveInt("warmup", opts.values.warmup);
    const repeat = positiveInt("repeat", opts.values.repeat);
    const model = await loadModel(llama, opts.model, { vocabOnly: true });
    const ms = start => Number(process.hrtime.bigint() - start) / 1e6;
    const first = process.hrtime.bigint();
    const tokens = model.tokenize(text, false).length;
    const firstMs = ms(first);
    for (let i = 0; i < warmup; i++)
        model.tokenize(text, false);
    const times = [];
    for (let i = 0; i < repeat; i++) {
        const t = process.hrtime.bigint();
        model.tokenize(text, false);
        times.push(ms(t));
    }
    times.sort((a, b) => a - b);
    const at = q => times[Math.min(times.length - 1, Math.floor(q * times.length))];
    return { tokens, first_ms: firstMs, median_ms: at(0.5), p99_ms: at(0.99), max_ms: times[times.length - 1] };
}

async function runLogits(llama, opts) {
    if ((opts.values.prompt === undefined) === (opts.values.prompts === undefined))
        throw new UsageError("logits wants either --prompt TEXT or --prompts FILE.json");
    const prompts = opts.values.prompt !== undefined ? [opts.values.prompt] : readStrings(opts.values.prompts);
    const k = positiveInt("top", opts.values.top);
    const model = await loadModel(llama, opts.model);
    const tokenLists = prompts.map(p => promptTokens(model, p));
    const sequence = await createSequence(model, {
        threads: opts.threads, kvType: opts.kvType, flashAttention: false,
        contextSize: contextSizeFor(Math.max(...tokenLists.map(t => t.length)) + 1, opts.ctx),
    });
    const results = [];
    for (const tokens of tokenLists) {
        // each prompt from an empty cache: evaluate() appends to what the sequence holds
        await sequence.clearHistory();
        const generator = sequence.evaluateWithMetadata(tokens, { probabilities: true }, { temperature: 0 });
        const { value } = await generator.next();
        await generator.return();
        // the map is sorted from the most to the least likely token
        const top = [...value.probabilities].slice(0, k).map(([id, p]) => ({ id, lnp: Math.log(p) }));
        results.push({ prompt_tokens: tokens, top });
    }
    return opts.values.prompt !== undefined ? results[0] : results;
}

async function runGreedy(llama, opts) {
    const prompt = required(opts.values, "prompt");
    const n = positiveInt("n", opts.values.n);
    const model = await loadModel(llama, opts.model);
    const tokens = promptTokens(model, prompt);
    const sequence = await createSequence(model, {
        threads: opts.threads, kvType: opts.kvType, flashAttention: false,
        contextSize: contextSizeFor(tokens.length + n, opts.ctx),
    });
    const generated = [];
    for await (const token of sequence.evaluate(tokens, { temperature: 0, yieldEogToken: true })) {
        generated.push(token);
        if (generated.length === n)
            break;
    }
    return { prompt_tokens: tokens, tokens: generated };
}

function statusKb(field) {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync("/proc/self/status", "utf8"));
    return match ? Number(match[1]) : null;
}

// Ordinary English, repeated to the wanted length: the token ids do not change llama.cpp's speed.
const BENCH_TEXT = "The quick brown fox jumps over the lazy dog while the train to the station leaves at noon. ";

async function runBench(llama, opts, cpuBackend) {
    const promptCount = positiveInt("prompt-tokens", opts.values["prompt-tokens"]);
    const genCount = positiveInt("gen-tokens", opts.values["gen-tokens"]);
    const sequenceCount = positiveInt("sequences", opts.values.sequences);
    const baselineRssKb = statusKb("VmRSS");
    const model = await loadModel(llama, opts.model);
    let tokens = promptTokens(model, BENCH_TEXT);
    while (tokens.length < promptCount)
        tokens = tokens.concat(model.tokenize(BENCH_TEXT, false));
    tokens = tokens.slice(0, promptCount);
    const sequences = await createSequences(model, {
        threads: opts.threads, kvType: opts.kvType, flashAttention: "auto", sequences: sequenceCount,
        contextSize: contextSizeFor(sequenceCount * (promptCount + genCount), opts.ctx),
    });
    // The first step evaluates the whole prompt in one batch and picks the first new token; each later
    // step evaluates the previous token and picks the next: genCount decode steps after the prefill. With
    // several sequences, each step's evaluations wait for one another and go to llama.cpp as one batch.
    const generators = sequences.map(sequence => sequence.evaluate(tokens, { temperature: 0, yieldEogToken: true }));
    const t0 = process.hrtime.bigint();
    await Promise.all(generators.map(generator => generator.next()));
    const t1 = process.hrtime.bigint();
    await Promise.all(generators.map(async generator => {
        for (let i = 0; i < genCount; i++)
            await generator.next();
    }));
    const t2 = process.hrtime.bigint();
    await Promise.all(generators.map(generator => generator.return()));
    const seconds = (a, b) => Number(b - a) / 1e9;
    return {
        prefill_tok_s: sequenceCount * promptCount / seconds(t0, t1),
        decode_tok_s: sequenceCount * genCount / seconds(t1, t2),
        total_tok_s: sequenceCount * genCount / seconds(t0, t2),
        sequences: sequenceCount,
        peak_rss_mb: statusKb("VmHWM") / 1024,
        baseline_rss_mb: baselineRssKb / 1024,
        threads: opts.threads,
        prompt_tokens: promptCount,
        gen_tokens: genCount,
        kv_type: opts.kvType,
        cpu_backend: cpuBackend(),
        engine: "llama.cpp (node-llama-cpp 3.21.1)",
    };
}

async function main() {
    const opts = parse(process.argv.slice(2));
    const nlc = await importNodeLlamaCpp(opts.llamaDir);
    const { llama, state } = await loadLlama(nlc);
    let result;
    switch (opts.command) {
        case "tokenize": result = await runTokenize(llama, opts); break;
        case "tokenize-speed": result = await runTokenizeSpeed(llama, opts); break;
        case "logits": result = await runLogits(llama, opts); break;
        case "greedy": result = await runGreedy(llama, opts); break;
        case "bench": result = await runBench(llama, opts, () => state.cpuBackend); break;
    }
    await new Promise(done => process.stdout.write(JSON.stringify(result) + "\n", done));
    await llama.dispose();
}

function oneLine(text) {
    return String(text).replace(/\s*[\r\n]+\s*/g, "; ").trim();
}

main().then(() => process.exit(0), e => {
    if (e instanceof HelpRequest) {
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
    }
    if (e instanceof UsageError) {
        process.stderr.write(`oracle: error: ${oneLine(e.message)} (see 'node oracle.mjs --help')\n`);
        process.exit(2);
    }
    process.stderr.write(`oracle: error: ${oneLine(e?.message ?? e)}\n`);
    if (process.env.ORACLE_DEBUG)
        process.stderr.write(`${e?.stack}\n`);
    process.exit(1);
});
