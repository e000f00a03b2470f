/*
Copyright 2026 The Shortlink Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package cache

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// URL schemes of the highly available topologies. go-redis reads Sentinel and Cluster URLs
// with the redis:// scheme, a single host and the others in repeated addr= parameters, and
// takes a Sentinel URL's user-info as the sentinels' password; a scheme of our own keeps the
// topology visible in the one REDIS_URL a Secret holds, lists every seed address in the host
// part, and gives user-info the meaning it has in every other URL: Redis's own credentials.
const (
	SchemeSentinel    = "redis-sentinel"
	SchemeSentinelTLS = "rediss-sentinel"
	SchemeCluster     = "redis-cluster"
	SchemeClusterTLS  = "rediss-cluster"
)

// haURL is a redis-sentinel:// or redis-cluster:// URL taken apart:
// scheme://[user[:password]@]host:port[,host:port…][/path][?query].
type haURL struct {
	tls   bool
	user  *url.Userinfo
	hosts []string
	path  []string
	query url.Values
}

// errHAURL prefixes every error about a Sentinel or Cluster URL. Messages never quote the URL,
// which may hold a password.
var errHAURL = errors.New("invalid redis url")

// reserved query parameters are given by other parts of the URL.
var reservedParams = []string{"addr", "master_name", "username", "password", "db"}

func parseHAURL(raw, scheme string) (haURL, error) {
	rest := strings.TrimPrefix(raw, scheme+"://")
	rest, rawQuery, _ := strings.Cut(rest, "?")
	authority, path, _ := strings.Cut(rest, "/")
	u := haURL{tls: strings.HasPrefix(scheme, "rediss")}
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		parsed, err := url.Parse("redis://" + authority[:at+1] + "host")
		if err != nil || parsed.User == nil {
			return haURL{}, fmt.Errorf("%w: %s: bad user-info", errHAURL, scheme)
		}
		u.user, authority = parsed.User, authority[at+1:]
	}
	for _, h := range strings.Split(authority, ",") {
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" || port == "" {
			return haURL{}, fmt.Errorf("%w: %s: address %q is not host:port", errHAURL, scheme, h)
		}
		u.hosts = append(u.hosts, h)
	}
	for _, p := range strings.Split(path, "/") {
		if p != "" {
			u.path = append(u.path, p)
		}
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return haURL{}, fmt.Errorf("%w: %s: query: %w", errHAURL, scheme, err)
	}
	for _, name := range reservedParams {
		if q.Has(name) {
			return haURL{}, fmt.Errorf("%w: %s: parameter %s is given by the URL itself", errHAURL, scheme, name)
		}
	}
	u.query = q
	return u, nil
}

// goRedisURL is the redis:// URL go-redis's parsers read: the first address as the host, the
// others as addr= parameters, extra holding what the caller adds to the query.
func (u haURL) goRedisURL(user *url.Userinfo, path string, extra url.Values) string {
	q := url.Values{}
	for k, v := range u.query {
		q[k] = v
	}
	for k, v := range extra {
		q[k] = v
	}
	for _, h := range u.hosts[1:] {
		q.Add("addr", h)
	}
	scheme := "redis"
	if u.tls {
		scheme = "rediss"
	}
	return (&url.URL{Scheme: scheme, User: user, Host: u.hosts[0], Path: path, RawQuery: q.Encode()}).String()
}

// parseSentinelURL reads redis-sentinel://[user[:password]@]sentinel:port[,…]/master[/db][?…].
// User-info authenticates to Redis (master and replicas); sentinel_username and
// sentinel_password, when given, to the sentinels. Other parameters are go-redis's
// FailoverOptions in snake case (dial_timeout, read_timeout, pool_size, …).
func parseSentinelURL(raw, scheme string) (*redis.FailoverOptions, error) {
	u, err := parseHAURL(raw, scheme)
	if err != nil {
		return nil, err
	}
	if len(u.path) < 1 || len(u.path) > 2 {
		return nil, fmt.Errorf("%w: %s: the path must be /<master name> or /<master name>/<db>", errHAURL, scheme)
	}
	var sentinelUser *url.Userinfo
	if u.query.Has("sentinel_username") || u.query.Has("sentinel_password") {
		sentinelUser = url.UserPassword(u.query.Get("sentinel_username"), u.query.Get("sentinel_password"))
		u.query.Del("sentinel_username")
		u.query.Del("sentinel_password")
	}
	extra := url.Values{"master_name": {u.path[0]}}
	if u.user != nil {
		extra.Set("username", u.user.Username())
		if pw, ok := u.user.Password(); ok {
			extra.Set("password", pw)
		}
	}
	db := ""
	if len(u.path) == 2 {
		db = "/" + u.path[1]
	}
	o, err := redis.ParseFailoverURL(u.goRedisURL(sentinelUser, db, extra))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errHAURL, scheme, err)
	}
	verifyEachHost(o.TLSConfig)
	return o, nil
}

// parseClusterURL reads redis-cluster://[user[:password]@]node:port[,…][?…]: any nodes of the
// cluster, which go-redis asks for the rest. Other parameters are go-redis's ClusterOptions in
// snake case (dial_timeout, max_redirects, pool_size, …).
func parseClusterURL(raw, scheme string) (*redis.ClusterOptions, error) {
	u, err := parseHAURL(raw, scheme)
	if err != nil {
		return nil, err
	}
	if len(u.path) > 0 {
		return nil, fmt.Errorf("%w: %s: a cluster has only database 0; the URL takes no path", errHAURL, scheme)
	}
	// go-redis reads skip_verify in Sentinel URLs but not in Cluster URLs; both take it here.
	skipVerify, err := takeBool(u.query, "skip_verify")
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errHAURL, scheme, err)
	}
	o, err := redis.ParseClusterURL(u.goRedisURL(u.user, "", nil))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errHAURL, scheme, err)
	}
	verifyEachHost(o.TLSConfig)
	if o.TLSConfig != nil {
		o.TLSConfig.InsecureSkipVerify = skipVerify
	}
	return o, nil
}

// takeBool removes the parameter name from q and returns its value, false when absent.
func takeBool(q url.Values, name string) (bool, error) {
	if !q.Has(name) {
		return false, nil
	}
	v, err := strconv.ParseBool(q.Get(name))
	q.Del(name)
	if err != nil {
		return false, fmt.Errorf("parameter %s: %w", name, err)
	}
	return v, nil
}

// verifyEachHost makes each TLS connection verify the certificate of the host it dials. go-redis
// fixes the server name to the URL's first host, which would check every sentinel, master and
// cluster node against that one name; Go infers the name from each address when it is empty.
func verifyEachHost(c *tls.Config) {
	if c != nil {
		c.ServerName = ""
	}
}
