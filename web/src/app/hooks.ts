// Small React hooks with no domain knowledge: a ticking clock, a countdown, visibility.
import { useEffect, useRef, useState, type RefObject } from 'react'

/** The current time, refreshed every `ms`, for relative times that stay true. */
export function useNow(ms = 30_000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms)
    return () => clearInterval(id)
  }, [ms])
  return now
}

/** Whole seconds left until `until` (a Date.now() value), ticking each second, 0 when past. */
export function useCountdown(until: number): number {
  const left = () => Math.max(0, Math.ceil((until - Date.now()) / 1000))
  const [secs, setSecs] = useState(left)
  useEffect(() => {
    setSecs(left())
    if (until <= Date.now()) return
    const id = setInterval(() => {
      const s = left()
      setSecs(s)
      if (s === 0) clearInterval(id)
    }, 250)
    return () => clearInterval(id)
  }, [until])
  return secs
}

/** Becomes true once the element comes near the viewport, and stays true. */
export function useSeen<T extends Element>(margin = '300px'): [RefObject<T | null>, boolean] {
  const ref = useRef<T>(null)
  const [seen, setSeen] = useState(false)
  useEffect(() => {
    const el = ref.current
    if (seen || !el) return
    if (typeof IntersectionObserver === 'undefined') {
      setSeen(true)
      return
    }
    const io = new IntersectionObserver((es) => {
      if (es.some((e) => e.isIntersecting)) setSeen(true)
    }, { rootMargin: margin })
    io.observe(el)
    return () => io.disconnect()
  }, [seen, margin])
  return [ref, seen]
}

/** Runs at most `n` tasks at once; used so a page of images does not decrypt all at once. */
export function limiter(n: number) {
  let active = 0
  const queue: (() => void)[] = []
  const next = () => {
    if (active >= n) return
    const run = queue.shift()
    if (run) {
      active++
      run()
    }
  }
  return function limit<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      queue.push(() => {
        task().then(resolve, reject).finally(() => {
          active--
          next()
        })
      })
      next()
    })
  }
}
