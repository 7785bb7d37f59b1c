// CONTRACT: every object the sandbox Stripe returns carries every key of Stripe's official fixture for its
// type (test/specs/stripe-fixtures3.json) with a compatible JSON type.
//
// The rule, key by key, recursively (array elements against the fixture's first element):
//  - a fixture key must be present; it may be absent only where the SDK declares it optional (`key?:`),
//    which is how Stripe omits e.g. `quantity` on metered subscription items;
//  - where the fixture shows a non-null value, ours has the same JSON type (string, number, boolean,
//    array, object), or null where the SDK's declaration of that key includes `| null`;
//  - where the fixture shows null, it tells no type: ours must be one the SDK's declaration allows;
//  - a key we send that the fixture lacks must be declared by the SDK (no invented keys).
// "The SDK" is stripe@23.1.0's TypeScript declarations for API version 2026-10-28.endive, read here with the
// TypeScript compiler; its Decimal fields travel as strings. `event.data.object` is checked against the
// fixture of its own `object` type.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import ts from 'typescript';
import { checkout, DAY, METER, startHarness, STARTER, START } from './stripe-helpers.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Kind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

const fixtures = (JSON.parse(readFileSync(fileURLToPath(new URL('../specs/stripe-fixtures3.json', import.meta.url)), 'utf8')) as { resources: Record<string, Json> }).resources;

const SDK_TYPES: Record<string, string> = {
  customer: 'Stripe.Customer',
  'checkout.session': 'Stripe.Checkout.Session',
  'billing_portal.session': 'Stripe.BillingPortal.Session',
  subscription: 'Stripe.Subscription',
  subscription_item: 'Stripe.SubscriptionItem',
  invoice: 'Stripe.Invoice',
  event: 'Stripe.CustomerSubscriptionUpdatedEvent',
  'billing.meter_event': 'Stripe.Billing.MeterEvent',
  price: 'Stripe.Price',
};

/** Loads the SDK's declarations once and answers "which JSON kinds may this type take". */
function loadSdk() {
  const entry = fileURLToPath(new URL('./__stripe_contract_types__.ts', import.meta.url));
  const names = Object.entries(SDK_TYPES);
  const source = `import Stripe from 'stripe';\n${names.map(([, type], i) => `export type T${i} = ${type};`).join('\n')}\n`;
  const host = ts.createCompilerHost({});
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (file, language, ...rest) => (file === entry ? ts.createSourceFile(file, source, language) : getSourceFile(file, language, ...rest));
  host.fileExists = (file) => file === entry || fileExists(file);
  const program = ts.createProgram([entry], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, skipLibCheck: true, noEmit: true, types: [] }, host);
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(entry)!;
  const byObject = new Map<string, ts.Type>();
  file.statements.forEach((statement, i) => {
    if (ts.isTypeAliasDeclaration(statement)) byObject.set(names[i - 1]![0], checker.getTypeAtLocation(statement.name));
  });

  function kinds(type: ts.Type): Set<Kind> {
    const out = new Set<Kind>();
    const visit = (t: ts.Type) => {
      if (t.isUnion()) return t.types.forEach(visit);
      const f = t.flags;
      if (f & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return ['null', 'boolean', 'number', 'string', 'array', 'object'].forEach((k) => out.add(k as Kind));
      if (f & ts.TypeFlags.Null) out.add('null');
      else if (f & (ts.TypeFlags.StringLike)) out.add('string');
      else if (f & ts.TypeFlags.NumberLike) out.add('number');
      else if (f & ts.TypeFlags.BooleanLike) out.add('boolean');
      else if (t.getSymbol()?.getName() === 'Decimal' || t.aliasSymbol?.getName() === 'Decimal') out.add('string');
      else if (checker.isArrayType(t)) out.add('array');
      else if (f & ts.TypeFlags.Object) out.add('object');
    };
    visit(type);
    return out;
  }
  const members = (type: ts.Type, pick: (t: ts.Type) => boolean) => (type.isUnion() ? type.types : [type]).filter(pick);
  const objectPart = (type: ts.Type) => members(type, (t) => !!(t.flags & ts.TypeFlags.Object) && !checker.isArrayType(t) && t.getSymbol()?.getName() !== 'Decimal')[0];
  const elementOf = (type: ts.Type) => {
    const array = members(type, (t) => checker.isArrayType(t))[0];
    return array ? checker.getTypeArguments(array as ts.TypeReference)[0] : undefined;
  };
  function property(type: ts.Type, key: string): { type: ts.Type; optional: boolean } | undefined {
    const symbol = checker.getPropertyOfType(type, key);
    if (symbol) return { type: checker.getTypeOfSymbol(symbol), optional: !!(symbol.flags & ts.SymbolFlags.Optional) };
    const index = checker.getIndexInfoOfType(type, ts.IndexKind.String);
    return index ? { type: index.type, optional: true } : undefined;
  }
  return { byObject, kinds, objectPart, elementOf, property, checker };
}

const sdk = loadSdk();

const kindOf = (v: unknown): Kind => (v === null ? 'null' : Array.isArray(v) ? 'array' : (typeof v as Kind));

/** Every way `ours` breaks the rule above against `fixture`, as readable paths. */
function violations(ours: Json, fixture: Json, sdkType: ts.Type | undefined, path: string, out: string[] = []): string[] {
  if (kindOf(ours) !== 'object' || kindOf(fixture) !== 'object') return out;
  const o = ours as Record<string, Json>;
  const f = fixture as Record<string, Json>;
  for (const key of Object.keys(f)) {
    const decl = sdkType ? sdk.property(sdkType, key) : undefined;
    const at = `${path}.${key}`;
    if (!(key in o)) {
      if (!decl?.optional) out.push(`${at}: missing`);
      continue;
    }
    compare(o[key]!, f[key]!, decl?.type, at, out);
  }
  for (const key of Object.keys(o)) {
    if (key in f) continue;
    const decl = sdkType ? sdk.property(sdkType, key) : undefined;
    if (!decl) out.push(`${path}.${key}: not in the fixture nor in the SDK`);
    else compare(o[key]!, null, decl.type, `${path}.${key}`, out);
  }
  return out;
}

function compare(ours: Json, fixture: Json, declared: ts.Type | undefined, at: string, out: string[]): void {
  const ko = kindOf(ours);
  const kf = kindOf(fixture);
  const allowed = declared ? sdk.kinds(declared) : undefined;
  const ok = kf === 'null' ? (allowed ? allowed.has(ko) : ko === 'null') : ko === kf || (ko === 'null' && !!allowed?.has('null'));
  if (!ok) return void out.push(`${at}: ${ko} where the fixture has ${kf}${allowed ? ` and the SDK allows ${[...allowed].join('|')}` : ''}`);
  if (allowed && !allowed.has(ko)) return void out.push(`${at}: ${ko} but the SDK allows ${[...allowed].join('|')}`);
  const objectType = declared ? sdk.objectPart(declared) : undefined;
  if (ko === 'object') {
    // Where the fixture shows null it still holds no keys to demand; the SDK's required ones stand in.
    const shape: Json = kf === 'object' ? fixture : requiredShape(objectType);
    violations(ours, shape, objectType, at, out);
  }
  if (ko === 'array' && kf === 'array' && (fixture as Json[]).length > 0) {
    const element = declared ? sdk.elementOf(declared) : undefined;
    (ours as Json[]).forEach((item, i) => compare(item, (fixture as Json[])[0]!, element, `${at}[${i}]`, out));
  }
}

/** A stand-in fixture from the SDK: its required keys, each shown as null (any allowed type). */
function requiredShape(type: ts.Type | undefined): Json {
  const shape: Record<string, Json> = {};
  for (const symbol of type ? sdk.checker.getPropertiesOfType(type) : []) if (!(symbol.flags & ts.SymbolFlags.Optional)) shape[symbol.getName()] = null;
  return shape;
}

function checkObject(t: { ok(v: unknown, m: string): void; same(a: unknown, b: unknown, m: string): void }, ours: Json, label: string) {
  const name = (ours as { object: string }).object;
  const fixture = fixtures[name];
  t.ok(fixture, `${label}: there is a fixture for ${name}`);
  if (!fixture) return;
  let compared = fixture;
  let envelope = ours;
  if (name === 'event') {
    // The fixture's event wraps a plan; the envelope is checked here and the object by its own type.
    const data = (ours as { data: { object: Json; previous_attributes?: Json } }).data;
    checkObject(t, data.object, `${label} → data.object`);
    compared = { ...(fixture as Record<string, Json>), data: { object: {} } };
    envelope = { ...(ours as Record<string, Json>), data: { object: {}, ...(data.previous_attributes !== undefined && { previous_attributes: {} }) } };
  }
  t.same(violations(envelope, compared, sdk.byObject.get(name), name), [], `${label} (${name}) matches the fixture`);
}

t.test('the SDK declarations were read', async (t) => {
  t.equal(sdk.byObject.size, Object.keys(SDK_TYPES).length);
  const sub = sdk.byObject.get('subscription')!;
  t.same([...sdk.kinds(sdk.property(sub, 'cancel_at')!.type)].sort(), ['null', 'number']);
  t.ok(sdk.property(sdk.byObject.get('subscription_item')!, 'quantity')!.optional);
  t.same(violations({ a: 1 } as Json, { a: 'x', b: null } as Json, undefined, 'probe'), ['probe.a: number where the fixture has string', 'probe.b: missing', ], 'the checker itself catches wrong types and missing keys');
});

t.test('every object type the sandbox returns matches its official fixture', async (t) => {
  const h = await startHarness(t);
  const wire = async (path: string) => (await (await fetch(`${h.fake.url}${path}`, { headers: { authorization: `Bearer ${h.fake.apiKey}` } })).json()) as Json;
  const { customer, session } = await checkout(h);
  checkObject(t, await wire(`/v1/customers/${customer.id}`), 'customer');
  checkObject(t, await wire(`/v1/checkout/sessions/${session.id}`), 'open checkout session');
  const portal = await h.stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'http://app.test/billing' });
  checkObject(t, await wire(`/v1/customers/${customer.id}`), 'customer');
  checkObject(t, portal.lastResponse ? (JSON.parse(JSON.stringify(portal)) as Json) : null, 'portal session');
  await h.fake.completeCheckout(session.id, 'pay');
  checkObject(t, await wire(`/v1/checkout/sessions/${session.id}`), 'completed checkout session');
  const subId = (await h.stripe.checkout.sessions.retrieve(session.id)).subscription as string;
  const sub = (await wire(`/v1/subscriptions/${subId}`)) as { items: { data: Json[] }; latest_invoice: string };
  checkObject(t, sub as unknown as Json, 'active subscription (licensed + metered items)');
  for (const item of sub.items.data) {
    checkObject(t, item, 'subscription item');
    checkObject(t, (item as { price: Json }).price, 'price');
  }
  checkObject(t, await wire(`/v1/invoices/${sub.latest_invoice}`), 'paid invoice');
  checkObject(t, await wire(`/v1/prices/${STARTER}`), 'catalog price');
  const meter = await h.stripe.billing.meterEvents.create({ event_name: METER, payload: { stripe_customer_id: customer.id, value: '3' } });
  checkObject(t, JSON.parse(JSON.stringify(meter)) as Json, 'meter event');

  h.fake.setPaymentBehaviour(customer.id, 'fail');
  await h.advance(START + 29 * DAY);
  const failed = (await wire(`/v1/subscriptions/${subId}`)) as { latest_invoice: string };
  checkObject(t, await wire(`/v1/invoices/${failed.latest_invoice}`), 'open invoice after a failed charge');
  await h.stripe.subscriptions.update(subId, { cancel_at_period_end: true });
  checkObject(t, await wire(`/v1/subscriptions/${subId}`), 'subscription set to cancel at period end');
  await h.stripe.subscriptions.cancel(subId);
  checkObject(t, await wire(`/v1/subscriptions/${subId}`), 'canceled subscription');
  await h.fake.idle();
  const seen = new Set<string>();
  for (const delivery of h.receiver.received) {
    const event = JSON.parse(delivery.body) as Json;
    if (seen.has(delivery.type)) continue;
    seen.add(delivery.type);
    checkObject(t, event, `event ${delivery.type}`);
  }
  t.ok(seen.size >= 10, `events of ${seen.size} types checked`);
});
