import { ONE_DAY_MS } from "./duration";

/**
 * `Upstash-Retry-Delay` expressions (milliseconds over `retried`), parsed by a small recursive
 * descent parser: the header comes from the network, so it is never handed to eval/new Function.
 * Grammar: expr = term (("+"|"-") term)*; term = unary (("*"|"/") unary)*;
 * unary = ("-"|"+") unary | number | "retried" | name "(" expr ("," expr)* ")" | "(" expr ")".
 */
export type RetryDelay = (retried: number) => number;

type Node = (retried: number) => number;

const FUNCTIONS: Record<string, { arity: [number, number]; fn: (...args: number[]) => number }> = {
  pow: { arity: [2, 2], fn: (a, b) => Math.pow(a!, b!) },
  sqrt: { arity: [1, 1], fn: (a) => Math.sqrt(a!) },
  abs: { arity: [1, 1], fn: (a) => Math.abs(a!) },
  exp: { arity: [1, 1], fn: (a) => Math.exp(a!) },
  floor: { arity: [1, 1], fn: (a) => Math.floor(a!) },
  ceil: { arity: [1, 1], fn: (a) => Math.ceil(a!) },
  round: { arity: [1, 1], fn: (a) => Math.round(a!) },
  min: { arity: [2, Infinity], fn: (...xs) => Math.min(...xs) },
  max: { arity: [2, Infinity], fn: (...xs) => Math.max(...xs) },
};

const TOKEN = /\s*(?:(\d+(?:\.\d*)?|\.\d+)|([A-Za-z_][A-Za-z0-9_]*)|([-+*/(),]))/y;

function tokenize(src: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < src.length) {
    if (/^\s*$/.test(src.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(src);
    if (!m) throw new Error(`unexpected character "${src.slice(at).trimStart()[0]}"`);
    out.push(m[1] ?? m[2] ?? m[3]!);
  }
  return out;
}

/** Compiles an expression; throws an Error that says what is wrong. */
export function compileRetryDelay(src: string): RetryDelay {
  if (src.length > 500) throw new Error("expression longer than 500 characters");
  const tokens = tokenize(src);
  let i = 0;
  const peek = () => tokens[i];
  const take = (want?: string) => {
    const t = tokens[i];
    if (t === undefined) throw new Error(want ? `expected "${want}" at the end` : "unexpected end of expression");
    if (want !== undefined && t !== want) throw new Error(`expected "${want}", got "${t}"`);
    i++;
    return t;
  };

  function expr(): Node {
    let left = term();
    while (peek() === "+" || peek() === "-") {
      const op = take();
      const l = left;
      const r = term();
      left = op === "+" ? (n) => l(n) + r(n) : (n) => l(n) - r(n);
    }
    return left;
  }
  function term(): Node {
    let left = unary();
    while (peek() === "*" || peek() === "/") {
      const op = take();
      const l = left;
      const r = unary();
      left = op === "*" ? (n) => l(n) * r(n) : (n) => l(n) / r(n);
    }
    return left;
  }
  function unary(): Node {
    const t = take();
    if (t === "-") {
      const inner = unary();
      return (n) => -inner(n);
    }
    if (t === "+") return unary();
    if (t === "(") {
      const inner = expr();
      take(")");
      return inner;
    }
    if (/^[\d.]/.test(t)) {
      const v = Number(t);
      return () => v;
    }
    if (t === "retried") return (n) => n;
    // hasOwn: a plain lookup would find `constructor`, `toString`... on the prototype.
    const f = Object.hasOwn(FUNCTIONS, t) ? FUNCTIONS[t] : undefined;
    if (!f) throw new Error(`unknown name "${t}" (use retried, numbers and ${Object.keys(FUNCTIONS).join(" ")})`);
    take("(");
    const args = [expr()];
    while (peek() === ",") {
      take(",");
      args.push(expr());
    }
    take(")");
    if (args.length < f.arity[0] || args.length > f.arity[1]) throw new Error(`${t}() takes ${f.arity[0] === f.arity[1] ? f.arity[0] : `at least ${f.arity[0]}`} argument(s), got ${args.length}`);
    return (n) => f.fn(...args.map((a) => a(n)));
  }

  if (tokens.length === 0) throw new Error("empty expression");
  const root = expr();
  if (i < tokens.length) throw new Error(`unexpected "${tokens[i]}"`);
  return (retried) => {
    const v = root(retried);
    if (Number.isNaN(v)) return 0;
    return v === Infinity ? ONE_DAY_MS : Math.max(0, Math.round(v));
  };
}

/** QStash's default backoff: min(1 day, e^(2.5 n)) seconds, n = retries so far including this one. */
export function defaultBackoffMs(retriesSoFar: number): number {
  return Math.min(ONE_DAY_MS, Math.round(Math.exp(2.5 * retriesSoFar) * 1000));
}
