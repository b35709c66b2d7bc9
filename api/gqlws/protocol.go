package gqlws

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// Subprotocol is the only WebSocket subprotocol the handler speaks.
const Subprotocol = "graphql-transport-ws"

// Message types of graphql-transport-ws.
const (
	typeConnectionInit = "connection_init" // client → server
	typeConnectionAck  = "connection_ack"  // server → client
	typePing           = "ping"            // both ways
	typePong           = "pong"            // both ways
	typeSubscribe      = "subscribe"       // client → server
	typeNext           = "next"            // server → client
	typeError          = "error"           // server → client
	typeComplete       = "complete"        // both ways
)

// Close codes the server sends. The 44xx codes of the protocol are the ones
// graphql-ws defines; CloseClientTooSlow and CloseKeepAliveTimeout are this
// package's own, in the private-use range, and are not fatal to a graphql-ws
// client, so it reconnects.
const (
	// CloseNormal ends a socket the client closed or the server shut down.
	CloseNormal = websocket.StatusNormalClosure
	// CloseBadRequest answers an unparsable message, a message of an unknown
	// type or a message the client must not send; the reason says which.
	CloseBadRequest websocket.StatusCode = 4400
	// CloseUnauthorized answers a subscribe sent before connection_ack.
	CloseUnauthorized websocket.StatusCode = 4401
	// CloseForbidden answers a connection_init whose payload Authenticate refused.
	CloseForbidden websocket.StatusCode = 4403
	// CloseSubprotocolNotAcceptable ends a socket opened without Subprotocol.
	CloseSubprotocolNotAcceptable websocket.StatusCode = 4406
	// CloseInitTimeout ends a socket that sent no connection_init within Options.InitTimeout.
	CloseInitTimeout websocket.StatusCode = 4408
	// CloseSubscriberExists answers a subscribe whose id is already running.
	CloseSubscriberExists websocket.StatusCode = 4409
	// CloseClientTooSlow ends a socket whose client does not read: a write
	// blocked longer than Options.WriteTimeout or more than Options.SendQueue
	// messages waited. Results are never dropped instead. A client that does
	// not read at all will rarely receive the close frame; the server logs it.
	CloseClientTooSlow websocket.StatusCode = 4410
	// CloseKeepAliveTimeout ends a socket that did not answer a WebSocket ping
	// within Options.PongTimeout.
	CloseKeepAliveTimeout websocket.StatusCode = 4411
	// CloseTooManyInitRequests answers a second connection_init.
	CloseTooManyInitRequests websocket.StatusCode = 4429
	// CloseInternalServerError ends a socket when a result cannot be encoded.
	CloseInternalServerError websocket.StatusCode = 4500
)

// closeError is a protocol violation: the code and reason the socket closes with.
type closeError struct {
	code   websocket.StatusCode
	reason string
}

func (e *closeError) Error() string { return fmt.Sprintf("%d: %s", e.code, e.reason) }

// closeErr builds a *closeError with a formatted reason.
func closeErr(code websocket.StatusCode, format string, args ...any) *closeError {
	return &closeError{code: code, reason: fmt.Sprintf(format, args...)}
}

// maxReason is the longest close reason a close frame carries (125 - 2 bytes).
const maxReason = 123

// truncateReason shortens a reason to fit a close frame without splitting a rune;
// an overlong reason would otherwise turn the close code into 1011.
func truncateReason(s string) string {
	if len(s) <= maxReason {
		return s
	}
	s = s[:maxReason]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// message is the envelope of every message in either direction.
type message struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// subscribePayload is the payload of a subscribe message.
type subscribePayload struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
}

// errNotObject reports a payload that must be a JSON object (or absent) but is not.
var errNotObject = errors.New("payload must be an object")

// parseMessage decodes one client message and checks the fields its type needs.
func parseMessage(data []byte) (message, *closeError) {
	var m message
	if err := json.Unmarshal(data, &m); err != nil {
		return m, closeErr(CloseBadRequest, "Invalid message received: %v", err)
	}
	switch m.Type {
	case typeConnectionInit, typePing, typePong:
		if !isObjectOrAbsent(m.Payload) {
			return m, closeErr(CloseBadRequest, "Invalid %q message: %v", m.Type, errNotObject)
		}
	case typeSubscribe, typeComplete:
		if m.ID == "" {
			return m, closeErr(CloseBadRequest, "Invalid %q message: id is required", m.Type)
		}
	case "":
		return m, closeErr(CloseBadRequest, "Invalid message received: type is required")
	default:
		return m, closeErr(CloseBadRequest, "Unexpected message of type %q received", m.Type)
	}
	return m, nil
}

// isObjectOrAbsent reports whether a raw payload is missing, null or a JSON object.
func isObjectOrAbsent(raw json.RawMessage) bool {
	if len(raw) == 0 || string(raw) == "null" {
		return true
	}
	var obj map[string]json.RawMessage
	return json.Unmarshal(raw, &obj) == nil
}

// decodeObject decodes an optional object payload; absent and null give nil.
func decodeObject(raw json.RawMessage) (map[string]any, error) {
	var obj map[string]any
	if len(raw) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("decode payload: %w", err)
	}
	return obj, nil
}

// decodeSubscribe decodes and checks a subscribe payload.
func decodeSubscribe(raw json.RawMessage) (subscribePayload, *closeError) {
	var p subscribePayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, closeErr(CloseBadRequest, `Invalid "subscribe" message: %v`, err)
	}
	if p.Query == "" {
		return p, closeErr(CloseBadRequest, `Invalid "subscribe" message: payload needs a query`)
	}
	return p, nil
}

// encode marshals a server message; payload is left out when nil.
func encode(typ, id string, payload any) ([]byte, error) {
	out := struct {
		ID      string `json:"id,omitempty"`
		Type    string `json:"type"`
		Payload any    `json:"payload,omitempty"`
	}{ID: id, Type: typ, Payload: payload}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode %q message: %w", typ, err)
	}
	return b, nil
}
