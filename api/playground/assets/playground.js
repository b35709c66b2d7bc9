/*
 * Bootstrap for the beian GraphQL playground (GraphiQL).
 *
 * It lives in its own file, not inline in index.html, so that the page's
 * Content-Security-Policy can allow scripts from 'self' only.
 *
 * Auth: the Authorization header typed in GraphiQL's Headers editor, as JSON
 * like {"Authorization": "Bearer <token>"}, is the single source of truth.
 *  - HTTP: GraphiQL hands the editor's headers to the fetcher, which sends them
 *    with every POST /graphql (queries, mutations and schema introspection).
 *  - WebSocket: the fetcher remembers the headers of the latest operation, and
 *    the graphql-ws client's connectionParams reads them whenever it opens a
 *    socket, sending {"Authorization": "..."} as the connection_init payload.
 *    If the header changes while a socket is open, the socket is dropped and
 *    graphql-ws reconnects (and resubscribes) with the new value.
 * GraphiQL keeps the headers in localStorage (shouldPersistHeaders), so the
 * token survives a reload. This page is for development only.
 */
(function () {
  'use strict';

  var httpURL = location.origin + '/graphql';
  var wsURL =
    (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql';

  var defaultQuery = 'query Me {\n  me {\n    account\n    role\n  }\n}\n';

  // Headers sent with the most recent operation (from the Headers editor).
  var currentHeaders = {};
  // Authorization the open WebSocket was initialised with; null when no
  // socket is open.
  var socketAuth = null;

  // authorization returns the Authorization header in headers, matched
  // case-insensitively, or '' when there is none.
  function authorization(headers) {
    if (!headers || typeof headers !== 'object') {
      return '';
    }
    for (var name in headers) {
      if (
        Object.prototype.hasOwnProperty.call(headers, name) &&
        name.toLowerCase() === 'authorization' &&
        headers[name] != null
      ) {
        return String(headers[name]).trim();
      }
    }
    return '';
  }

  var wsClient = graphqlWs.createClient({
    url: wsURL,
    // Evaluated on every (re)connection, so it always uses the headers of
    // the operation that caused the connection.
    connectionParams: function () {
      var auth = authorization(currentHeaders);
      socketAuth = auth;
      return auth ? { Authorization: auth } : undefined;
    },
    on: {
      closed: function () {
        socketAuth = null;
      },
    },
  });

  var graphiqlFetcher = GraphiQL.createFetcher({
    url: httpURL,
    subscriptionUrl: wsURL,
    wsClient: wsClient,
    // beian answers with plain JSON; no multipart/mixed (@defer) handling.
    enableIncrementalDelivery: false,
  });

  // fetcher records the editor's headers for the WebSocket client and then
  // lets GraphiQL's fetcher route the operation: subscriptions over the
  // WebSocket, everything else as POST with the headers.
  function fetcher(params, opts) {
    currentHeaders = (opts && opts.headers) || {};
    if (socketAuth !== null && socketAuth !== authorization(currentHeaders)) {
      // Not fatal for graphql-ws: it reconnects with the new connectionParams.
      wsClient.terminate();
    }
    return graphiqlFetcher(params, opts);
  }

  // Exposed for debugging from the browser console and for smoke tests.
  window.beianPlayground = { fetcher: fetcher, wsClient: wsClient };

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      shouldPersistHeaders: true,
      defaultEditorToolsVisibility: 'headers',
    }),
  );
})();
