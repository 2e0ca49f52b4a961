// A small NetworkPolicy evaluator (networking.k8s.io/v1 semantics), enough
// to ask "may A reach B on port P?" about the rendered policies.
//
// An endpoint is either a pod {namespace, labels, ports:[{name,
// containerPort, protocol}]} or an address {ip}. Policies only restrict pods
// in `namespace` (the suite's); endpoints elsewhere are unrestricted.

import { selectorMatches } from './k8s.mjs';

function ipv4ToBigInt(ip) {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) return null;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function ipv6ToBigInt(ip) {
  let [head, tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : null;
  let groups;
  if (t === null) groups = h;
  else groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) return null;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

function parseIp(ip) {
  if (ip.includes(':')) return { v: 6, n: ipv6ToBigInt(ip) };
  return { v: 4, n: ipv4ToBigInt(ip) };
}

export function cidrContains(cidr, ip) {
  const [base, bitsText] = cidr.split('/');
  const a = parseIp(base);
  const b = parseIp(ip);
  if (a.n === null || b.n === null || a.v !== b.v) return false;
  const width = a.v === 4 ? 32 : 128;
  const bits = BigInt(bitsText === undefined ? width : Number(bitsText));
  const shift = BigInt(width) - bits;
  return a.n >> shift === b.n >> shift;
}

function policyTypes(policy) {
  const types = policy.spec?.policyTypes;
  if (types && types.length) return types;
  return policy.spec?.egress ? ['Ingress', 'Egress'] : ['Ingress'];
}

function peerMatches(peer, endpoint, policyNamespace, namespaces) {
  if (peer.ipBlock) {
    if (!endpoint.ip) return false;
    if (!cidrContains(peer.ipBlock.cidr, endpoint.ip)) return false;
    return !(peer.ipBlock.except ?? []).some((c) => cidrContains(c, endpoint.ip));
  }
  if (!endpoint.namespace) return false;  // an address is not a pod
  if (peer.namespaceSelector) {
    const ns = namespaces[endpoint.namespace] ?? {};
    if (!selectorMatches(peer.namespaceSelector, ns)) return false;
  } else if (endpoint.namespace !== policyNamespace) {
    return false;
  }
  return peer.podSelector ? selectorMatches(peer.podSelector, endpoint.labels) : true;
}

function portMatches(ports, port, protocol, destination) {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'number') {
      return p.endPort ? port >= p.port && port <= p.endPort : port === p.port;
    }
    // A named port resolves on the destination pod.
    return (destination.ports ?? []).some(
      (cp) => cp.name === p.port && cp.containerPort === port && (cp.protocol ?? 'TCP') === protocol);
  });
}

// May `from` open a connection to `to`:port/protocol?
export function allowed(policies, { namespace, namespaces }, from, to, port, protocol = 'TCP') {
  const selecting = (endpoint, type) =>
    endpoint.namespace === namespace
      ? policies.filter((p) => policyTypes(p).includes(type) &&
          selectorMatches(p.spec?.podSelector ?? {}, endpoint.labels))
      : null;

  const egress = selecting(from, 'Egress');
  if (egress && egress.length) {
    const ok = egress.some((p) => (p.spec.egress ?? []).some((rule) =>
      (!rule.to || rule.to.length === 0 || rule.to.some((peer) => peerMatches(peer, to, namespace, namespaces))) &&
      portMatches(rule.ports, port, protocol, to)));
    if (!ok) return false;
  }
  const ingress = selecting(to, 'Ingress');
  if (ingress && ingress.length) {
    const ok = ingress.some((p) => (p.spec.ingress ?? []).some((rule) =>
      (!rule.from || rule.from.length === 0 || rule.from.some((peer) => peerMatches(peer, from, namespace, namespaces))) &&
      portMatches(rule.ports, port, protocol, to)));
    if (!ok) return false;
  }
  return true;
}
