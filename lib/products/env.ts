import { z } from "zod";
import { EnvError, type Env, type Mode } from "../env";

/**
 * A product's own variables: declared with the product, parsed from the same source as the layer's
 * (`env.source`), validated at boot for the products a deployment runs and never required for the
 * others. Jobs read them with `of(ctx.env)`.
 */
export interface ProductEnv<T> {
  product: string;
  /** The variables it reads, for docs and the products table. */
  variables: readonly string[];
  /** Every problem with this product's variables (empty: fine). */
  problems(source: Readonly<Record<string, string>>, mode: Mode): string[];
  /** The product's settings in this deployment; throws EnvError naming each problem. */
  of(env: Env): T;
}

export function defineProductEnv<S extends z.ZodRawShape, T>(
  product: string,
  shape: S,
  load: (e: Partial<z.infer<z.ZodObject<S>>>, mode: Mode) => T,
  /** Rules across fields (e.g. "these two go together"), as messages that start with the variable. */
  check: (e: Partial<z.infer<z.ZodObject<S>>>, mode: Mode) => string[] = () => [],
): ProductEnv<T> {
  const parse = (source: Readonly<Record<string, string>>, mode: Mode) => {
    const data: Record<string, unknown> = {};
    const problems: string[] = [];
    for (const [name, schema] of Object.entries(shape)) {
      const r = (schema as z.ZodType).safeParse(source[name]);
      if (r.success) data[name] = r.data;
      else for (const i of r.error.issues) problems.push(`${name}: ${i.message}`);
    }
    const e = data as Partial<z.infer<z.ZodObject<S>>>;
    if (!problems.length) problems.push(...check(e, mode));
    return { e, problems };
  };
  const cache = new WeakMap<Env, T>();
  return {
    product,
    variables: Object.keys(shape),
    problems: (source, mode) => parse(source, mode).problems,
    of(env) {
      const hit = cache.get(env);
      if (hit !== undefined) return hit;
      const { e, problems } = parse(env.source, env.mode);
      if (problems.length) throw new EnvError(problems.map((p) => `${p} (product ${product})`), { declared: true });
      const value = load(e, env.mode);
      cache.set(env, value);
      return value;
    },
  };
}
