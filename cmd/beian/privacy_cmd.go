package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/user"
	"strings"

	"github.com/beian/beian/commands"
	"github.com/beian/beian/domain"
	"github.com/google/uuid"
)

// privacyCmd erases a data subject: the EraseSubject command as an admin,
// then the purge of the read models, before it returns. It opens the data
// directory itself, so the server must be stopped; a running server takes
// the eraseSubject mutation instead.
func privacyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const use = "usage: beian privacy erase --subject CERTIFICATE_NUMBER|SUBJECT_ID --reason TEXT [--actor ACCOUNT] [--data DIR]"
	if len(args) == 0 || args[0] != "erase" {
		fmt.Fprintln(stderr, use)
		return errUsage
	}
	fs := newFlags("privacy erase", stderr)
	data := fs.String("data", "./data", "data directory")
	subject := fs.String("subject", "", "the person's certificate number, or their subject id")
	reason := fs.String("reason", "", "why (the request's reference, the legal ground); kept in the audit trail")
	actor := fs.String("actor", defaultActor(), "the operator's account, recorded as the admin who erased")
	key := fs.String("idempotency-key", "", "makes a retry recognisable (default: a new key; erasing twice is harmless anyway)")
	if err := parse(fs, args[1:]); err != nil {
		return helpOK(err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := open(ctx, config{Data: *data, Dev: true, Logger: logger, Clock: commands.SystemClock{}})
	if errors.Is(err, errDataInUse) {
		return fmt.Errorf("%w; stop `beian serve` first, or run the eraseSubject mutation as an admin on the running server", err)
	}
	if err != nil {
		return err
	}
	defer s.close()
	if *key == "" {
		*key = uuid.NewString()
	}
	m := commands.Meta{Actor: commands.Actor{Account: *actor, Role: commands.RoleAdmin}, IdempotencyKey: *key}
	res, err := s.app.EraseSubject.Handle(ctx, m, commands.EraseSubject{Subject: *subject, Reason: *reason})
	var ve *domain.ValidationError
	if errors.As(err, &ve) {
		var lines []string
		for _, f := range ve.Fields {
			lines = append(lines, fmt.Sprintf("--%s: %s (%s)", f.Path, f.Message.En, f.Message.Zh))
		}
		return &exitError{code: 1, err: errors.New(strings.Join(lines, "; "))}
	}
	if err != nil {
		return err
	}
	if err := s.waitPurged(ctx); err != nil {
		return fmt.Errorf("the key is destroyed, but the read models were not rebuilt yet (the next start does it): %w", err)
	}
	verb := "erased"
	if res.Repeated {
		verb = "already erased"
	}
	fmt.Fprintf(stdout, "subject %s %s (event at position %d); read models rebuilt without their data\n", s.privacy.Subject(strings.TrimSpace(*subject)), verb, res.Position)
	return nil
}

// defaultActor is the operating-system user running the command.
func defaultActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "operator:" + u.Username
	}
	return "operator"
}
