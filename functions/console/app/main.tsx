import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import './styles.css';
import { ApiError, type Identity, session, setUnauthorizedHandler, validate } from './api.js';
import { AppContext } from './hooks.js';
import { LiveFeed } from './live.js';
import type { LiveState } from './model.js';
import { AdminPage, ADMIN_NAV } from './pages/admin.js';
import { CLIENT_NAV, ClientPage } from './pages/client.js';
import { href, navigate, useRoute } from './router.js';
import { ErrorBox, Loading } from './ui.js';

function SignIn({ message, onSignedIn }: { message: string | null; onSignedIn: (who: Identity) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(message);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    session.set(token.trim());
    try {
      onSignedIn(await validate());
    } catch (err) {
      session.clear();
      setError(
        err instanceof ApiError && err.status === 401
          ? 'This token was not accepted: it is wrong, or it was revoked or regenerated.'
          : err instanceof ApiError && err.code === 'CLIENT_INACTIVE'
            ? 'This client is not active. Ask your operator.'
            : `Could not sign in: ${err instanceof Error ? err.message : String(err)}`,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form onSubmit={submit} class="card" aria-labelledby="signin-title">
        <h1 id="signin-title">Spot Optimizer</h1>
        <p class="sub">Sign in with your client token, or with the admin token to run the installation.</p>
        {error && (
          <p class="state error" role="alert">
            {error}
          </p>
        )}
        <label class="field">
          <span class="field-label">Token</span>
          <input type="password" name="token" autocomplete="off" spellcheck={false} required minLength={8} value={token} onInput={(e) => setToken(e.currentTarget.value)} />
          <span class="field-hint">Kept for this browser tab only; sent as a Bearer header, never in a URL.</span>
        </label>
        <button type="submit" class="primary" disabled={busy || token.trim() === ''}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

function LiveIndicator({ feed }: { feed: LiveFeed }) {
  const [state, setState] = useState<LiveState>(feed.state);
  useEffect(() => feed.onState(setState), [feed]);
  const paused = state === 'paused';
  return (
    <div class="live" data-state={state}>
      <span class="dot" aria-hidden="true" />
      <span role="status" aria-live="polite" data-testid="live-state">
        {state === 'live' ? 'Live' : state === 'paused' ? 'Paused' : 'Offline'}
      </span>
      <button type="button" class="link small" onClick={() => feed.setPaused(!paused)} aria-pressed={paused}>
        {paused ? 'Resume' : 'Pause'}
      </button>
    </div>
  );
}

function Shell({ who, signOut }: { who: Identity; signOut: () => void }) {
  const route = useRoute();
  const feed = useMemo(() => new LiveFeed(null), []);
  const [now, setNow] = useState(Date.now());
  const [toast, setToast] = useState<{ message: string; kind: 'ok' | 'error' } | null>(null);
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => {
    feed.start();
    const timer = window.setInterval(() => setNow(Date.now()), 15_000);
    return () => {
      feed.stop();
      window.clearInterval(timer);
    };
  }, [feed]);
  useEffect(() => {
    if (!toast) return undefined;
    const t = window.setTimeout(() => setToast(null), 5000);
    return () => window.clearTimeout(t);
  }, [toast]);
  useEffect(() => setMenuOpen(false), [route]);

  // A client token always lands in its own console; the admin starts in the operator console.
  const [area, clientId] = route.parts[0] === 'c' ? ['client', route.parts[1] ?? ''] : who.role === 'admin' ? ['admin', ''] : ['client', who.client_id ?? ''];
  useEffect(() => {
    if (who.role === 'client' && (route.parts[0] !== 'c' || route.parts[1] !== who.client_id)) navigate(href('c', who.client_id ?? '', route.parts[0] === 'c' ? (route.parts[2] ?? '') : ''));
  }, [route, who]);
  const page = area === 'client' ? route.parts[2] ?? '' : route.parts[1] ?? '';
  const nav = area === 'client' ? CLIENT_NAV.map(([p, text]) => [href('c', clientId, ...(p ? [p] : [])), text, p] as const) : ADMIN_NAV.map(([p, text]) => [href('admin', ...(p ? [p] : [])), text, p] as const);
  const ctx = { feed, role: who.role, ownClientId: who.client_id, now, toast: (message: string, kind: 'ok' | 'error' = 'ok') => setToast({ message, kind }) };
  return (
    <AppContext.Provider value={ctx}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <div class="brand">
          <span class="logo" aria-hidden="true">◆</span> Spot Optimizer
          <span class="who">{who.role === 'admin' ? 'Operator' : who.name}</span>
        </div>
        <button type="button" class="menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <nav id="nav" class={menuOpen ? 'open' : ''} aria-label={area === 'client' ? 'Client console' : 'Operator console'}>
          {who.role === 'admin' && area === 'client' && (
            <a href={href('admin', 'clients')} class="back">
              ← Operator
            </a>
          )}
          {nav.map(([to, text, p]) => (
            <a key={to} href={to} aria-current={page === p ? 'page' : undefined}>
              {text}
            </a>
          ))}
        </nav>
        <div class="top-right">
          <LiveIndicator feed={feed} />
          <button type="button" class="link" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {area === 'client' ? <ClientPage clientId={clientId} page={page} route={route} /> : <AdminPage page={page} route={route} />}
      </main>
      {toast && (
        <div class={`toast ${toast.kind}`} role={toast.kind === 'error' ? 'alert' : 'status'}>
          {toast.message}
        </div>
      )}
    </AppContext.Provider>
  );
}

function App() {
  const [who, setWho] = useState<Identity | null | undefined>(session.token() ? undefined : null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    setUnauthorizedHandler((m) => {
      setMessage(m);
      setWho(null);
    });
    if (session.token()) {
      validate().then(setWho, (err: unknown) => {
        if (err instanceof ApiError && err.status === 401) return; // the handler shows sign-in
        setError(err);
      });
    }
  }, []);
  const signOut = () => {
    session.clear();
    setMessage(null);
    setWho(null);
    window.location.hash = '';
  };
  if (error !== undefined) return <ErrorBox error={error} retry={() => window.location.reload()} />;
  if (who === undefined) return <Loading what="Signing in" />;
  const signedIn = (w: Identity) => {
    setMessage(null);
    setWho(w);
  };
  if (who === null) return <SignIn message={message} onSignedIn={signedIn} />;
  return <Shell who={who} signOut={signOut} />;
}

const root = document.getElementById('app');
if (root) render(<App />, root);
