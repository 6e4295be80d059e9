// Encodes each string of a JSON array read from stdin with llama-tokenizer-js (BOS and the leading
// space added, as llama.cpp does for Llama models) and prints the token id arrays as one JSON array.
// The tokenizer tests compare tinyedge's tokenizer against this independent implementation.
import llamaTokenizer from 'llama-tokenizer-js';

let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) {
    input += chunk;
}
const texts = JSON.parse(input);
process.stdout.write(JSON.stringify(texts.map(text => llamaTokenizer.encode(text))) + '\n');
