// Renders a chat template the way node-llama-cpp does (with @huggingface/jinja, which it depends on and
// package-lock.json pins): reads {"template": "...", ...variables} as JSON on stdin, prints the rendered text
// as a JSON string. The prompt tests compare tinyedge's prompt layouts with what the models' own templates make.
import { Template } from "@huggingface/jinja";

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) {
    input += chunk;
}
const { template, ...variables } = JSON.parse(input);
process.stdout.write(JSON.stringify(new Template(template).render(variables)) + "\n");
