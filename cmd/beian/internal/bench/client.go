package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
)

// client speaks GraphQL over HTTP to one server; a token per call.
type client struct {
	url  string
	http *http.Client
}

// gqlError is a GraphQL error; the code is extensions.code.
type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

// opError is a failed operation: a GraphQL error code, or TRANSPORT when
// no GraphQL answer came back.
type opError struct {
	Op   string
	Code string
	Msg  string
	Err  error
}

func (e *opError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Op, e.Code, e.Err)
	}
	return fmt.Sprintf("%s: %s: %s", e.Op, e.Code, e.Msg)
}

func (e *opError) Unwrap() error { return e.Err }

// transportError is a request without an answer: CANCELLED when the run
// ended it, TRANSPORT otherwise.
func transportError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return &opError{Op: op, Code: "CANCELLED", Err: err}
	}
	return &opError{Op: op, Code: "TRANSPORT", Err: err}
}

// graphql runs one operation and decodes its data into out.
func (c *client) graphql(ctx context.Context, op, token, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return &opError{Op: op, Code: "CLIENT", Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return &opError{Op: op, Code: "CLIENT", Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.http.Do(req)
	if err != nil {
		return transportError(ctx, op, err)
	}
	defer resp.Body.Close()
	var res struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return &opError{Op: op, Code: fmt.Sprintf("HTTP_%d", resp.StatusCode), Err: err}
	}
	if len(res.Errors) > 0 {
		code := res.Errors[0].Extensions.Code
		if code == "" {
			code = "NO_CODE"
		}
		return &opError{Op: op, Code: code, Msg: res.Errors[0].Message}
	}
	if err := json.Unmarshal(res.Data, out); err != nil {
		return &opError{Op: op, Code: "DECODE", Err: err}
	}
	return nil
}

// upload posts a material to /uploads and returns its SHA-256.
func (c *client) upload(ctx context.Context, token string, content []byte) (string, error) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, err := w.CreateFormFile("file", "material.png")
	if err == nil {
		_, err = part.Write(content)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return "", &opError{Op: "upload", Code: "CLIENT", Err: err}
	}
	var out struct {
		SHA256 string `json:"sha256"`
	}
	if err := c.get(ctx, "upload", http.MethodPost, "/uploads", token, w.FormDataContentType(), &body, &out, http.StatusCreated); err != nil {
		return "", err
	}
	return out.SHA256, nil
}

// get sends a plain HTTP request and decodes a JSON answer of the wanted status.
func (c *client) get(ctx context.Context, op, method, path, token, contentType string, body io.Reader, out any, want int) error {
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, body)
	if err != nil {
		return &opError{Op: op, Code: "CLIENT", Err: err}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.http.Do(req)
	if err != nil {
		return transportError(ctx, op, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return &opError{Op: op, Code: fmt.Sprintf("HTTP_%d", resp.StatusCode), Msg: string(msg)}
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return &opError{Op: op, Code: "DECODE", Err: err}
	}
	return nil
}
