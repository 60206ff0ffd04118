import { once } from "../providers";
import type { ProviderKit, ProviderMode, Providers } from "../providers/types";

type Getters = Record<string, () => object | undefined>;

/**
 * A product's own vendors (Stripe for the marketplace, Vapi for forms...), built from the layer's
 * kit: live with a key, the outbox in local mode, a ConfigError naming the variable otherwise.
 * `of(ctx.providers)` gives them as the run sees them, with its signal and fence.
 */
export interface ProductProviders<P extends Getters> {
  product: string;
  of(providers: Providers): P;
  /** How each of this product's vendors would act right now (diagnostics, `pnpm job:run`). */
  modes(providers: Providers): Record<string, ProviderMode>;
}

export function defineProductProviders<P extends Getters>(
  product: string,
  build: (kit: ProviderKit) => P,
  /** Whether each vendor has its key in this env, by vendor name (the outbox's provider name). */
  configured: (kit: ProviderKit) => Record<string, boolean>,
): ProductProviders<P> {
  const raw = new WeakMap<ProviderKit, P>();
  const bound = new WeakMap<Providers, P>();
  return {
    product,
    of(providers) {
      const hit = bound.get(providers);
      if (hit) return hit;
      let base = raw.get(providers.kit);
      if (!base) raw.set(providers.kit, (base = build(providers.kit)));
      const view = Object.fromEntries(
        Object.entries(base).map(([name, get]) => [
          name,
          once(() => {
            const p = get();
            return p && providers.bind(p);
          }),
        ]),
      ) as P;
      bound.set(providers, view);
      return view;
    },
    modes: (providers) => Object.fromEntries(Object.entries(configured(providers.kit)).map(([name, has]) => [name, providers.kit.modeOf(has)])),
  };
}
