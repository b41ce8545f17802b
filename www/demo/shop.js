// The demo storefront's shop: a tiny catalogue, a cart in localStorage, and the
// web pixel running in a Web Worker (the pixel harness's sandbox, with the BUILT
// pixel bundle), fed as Shopify feeds a real pixel: the theme's
// `Shopify.analytics.publish` custom events (the tracker's `lummmen:startPixel`),
// the standard ecommerce events, and the shopper's consent changes.
"use strict";

(() => {
  const CATALOGUE = {
    tee: { product: "7000000001", variant: "40000000002", sku: "TEE-M", title: "Organic Cotton Tee", variantTitle: "M / Black", type: "Shirts", price: 19.99 },
    hoodie: { product: "7000000002", variant: "40000000005", sku: "HOOD-L", title: "Hoodie", variantTitle: "L / Grey", type: "Sweaters", price: 49.0 },
    cap: { product: "7000000005", variant: "40000000010", sku: "CAP", title: "Wool Cap", variantTitle: "Default Title", type: "Hats", price: 15.0 },
  };
  const CURRENCY = "EUR";
  const money = (amount) => ({ amount: Math.round(amount * 100) / 100, currencyCode: CURRENCY });
  const variantOf = (handle) => {
    const p = CATALOGUE[handle];
    return {
      id: `gid://shopify/ProductVariant/${p.variant}`,
      image: { src: `/demo/${handle}.svg` },
      price: money(p.price),
      product: { id: `gid://shopify/Product/${p.product}`, title: p.title, type: p.type, untranslatedTitle: p.title, url: `/demo/product.html?p=${handle}`, vendor: "Demo Shop" },
      sku: p.sku,
      title: p.variantTitle,
      untranslatedTitle: p.variantTitle,
    };
  };

  const cart = {
    lines: () => JSON.parse(localStorage.getItem("demo:cart") || "[]"),
    save: (lines) => localStorage.setItem("demo:cart", JSON.stringify(lines)),
    /** The cart as Shopify hands it to a pixel (`init.data.cart`); null when empty. */
    shopify() {
      const lines = cart.lines();
      if (!lines.length) return null;
      const total = lines.reduce((s, l) => s + CATALOGUE[l.handle].price * l.quantity, 0);
      return {
        attributes: [],
        cost: { totalAmount: money(total) },
        id: "gid://shopify/Cart/demo",
        lines: lines.map((l) => ({
          cost: { totalAmount: money(CATALOGUE[l.handle].price * l.quantity) },
          merchandise: variantOf(l.handle),
          quantity: l.quantity,
        })),
        totalQuantity: lines.reduce((n, l) => n + l.quantity, 0),
      };
    },
  };
  // The signed-in customer of this browser: a privacy request names their id.
  let customer = localStorage.getItem("demo:customer");
  if (!customer) {
    customer = `gid://shopify/Customer/${Math.floor(1e12 + Math.random() * 9e12)}`;
    localStorage.setItem("demo:customer", customer);
  }

  // The pixel, with the consent the shopper has given so far.
  const privacy = () => window.Shopify && Shopify.customerPrivacy;
  const sandbox = LummmenPixelSandbox.start({
    settings: { siteId: "1", endpoint: new URL("/collect", location.href).href },
    analyticsAllowed: !!(privacy() && privacy().analyticsProcessingAllowed()),
    customer: { id: customer },
    cart: cart.shopify(),
  });
  // Events reach the pixel once it has subscribed, as Shopify buffers them.
  const whenReady = (f) => sandbox.ready.then(f, () => {});
  const published = (Shopify.analytics && Shopify.analytics.published) || [];
  Shopify.analytics = {
    published,
    publish(name, data) {
      published.push({ name, data: JSON.parse(JSON.stringify(data)) });
      whenReady(() => sandbox.publish(name, data));
      return true;
    },
  };
  document.addEventListener("visitorConsentCollected", (e) => {
    whenReady(() => sandbox.setConsent(!!e.detail.analyticsAllowed));
  });
  const emit = (name, data) => whenReady(() => sandbox.emit({ name, data }));

  const shop = {
    CATALOGUE,
    pixel: sandbox,
    customer,
    cart,
    viewProduct(handle) {
      emit("product_viewed", { productVariant: variantOf(handle) });
    },
    addToCart(handle, quantity = 1) {
      const lines = cart.lines();
      const line = lines.find((l) => l.handle === handle);
      if (line) line.quantity += quantity;
      else lines.push({ handle, quantity });
      cart.save(lines);
      emit("product_added_to_cart", {
        cartLine: { cost: { totalAmount: money(CATALOGUE[handle].price * quantity) }, merchandise: variantOf(handle), quantity },
      });
      shop.renderCartCount();
    },
    totals() {
      const subtotal = cart.lines().reduce((s, l) => s + CATALOGUE[l.handle].price * l.quantity, 0);
      const shipping = subtotal > 0 ? 5 : 0;
      const tax = Math.round(subtotal * 0.2 * 100) / 100;
      return { subtotal, shipping, tax, total: subtotal + shipping + tax };
    },
    /** Completes the checkout: Shopify's `checkout_completed`; empties the cart. */
    completeCheckout() {
      const lines = cart.lines();
      const t = shop.totals();
      const order = `gid://shopify/Order/${Math.floor(1e12 + Math.random() * 9e12)}`;
      emit("checkout_completed", {
        checkout: {
          currencyCode: CURRENCY,
          order: { id: order, customer: { id: customer, isFirstOrder: true } },
          subtotalPrice: money(t.subtotal),
          totalPrice: money(t.total),
          totalTax: money(t.tax),
          shippingLine: { price: money(t.shipping) },
          discountsAmount: money(0),
          lineItems: lines.map((l, i) => ({
            id: `gid://shopify/CheckoutLineItem/${i + 1}`,
            quantity: l.quantity,
            title: CATALOGUE[l.handle].title,
            variant: variantOf(l.handle),
            finalLinePrice: money(CATALOGUE[l.handle].price * l.quantity),
            discountAllocations: [],
          })),
        },
      });
      cart.save([]);
      shop.lastOrder = { id: order, customer, ...t };
      return shop.lastOrder;
    },
    renderCartCount() {
      const el = document.getElementById("cart-count");
      if (el) el.textContent = cart.lines().reduce((n, l) => n + l.quantity, 0);
    },
  };
  window.demoShop = shop;
  document.addEventListener("DOMContentLoaded", () => {
    shop.renderCartCount();
    for (const b of document.querySelectorAll("[data-add]")) b.addEventListener("click", () => shop.addToCart(b.dataset.add));
  });
})();
