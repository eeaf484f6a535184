package handlers

import (
	"context"
	"errors"

	tusd "github.com/tus/tusd/v2/pkg/handler"

	"github.com/sharethings/sharethings/api"
)

// sharedLocker is tusd's Locker over api.UploadLocks, for instances that share uploads: a
// client whose connection broke may resume through any of them, while the request that lost
// it still holds the upload somewhere else.
type sharedLocker struct{ locks api.UploadLocks }

func (l sharedLocker) UseIn(composer *tusd.StoreComposer) { composer.UseLocker(l) }

func (l sharedLocker) NewLock(id string) (tusd.Lock, error) {
	return &sharedLock{locks: l.locks, id: id}, nil
}

type sharedLock struct {
	locks  api.UploadLocks
	id     string
	unlock func()
}

// Lock implements tusd.Lock: a wait that ends with ctx is tusd's lock timeout.
func (l *sharedLock) Lock(ctx context.Context, requestRelease func()) error {
	unlock, err := l.locks.LockUpload(ctx, l.id, requestRelease)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return tusd.ErrLockTimeout
	} else if err != nil {
		return err
	}
	l.unlock = unlock
	return nil
}

func (l *sharedLock) Unlock() error {
	if l.unlock != nil {
		l.unlock()
		l.unlock = nil
	}
	return nil
}
