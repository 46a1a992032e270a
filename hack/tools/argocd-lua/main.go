// Test infrastructure only: runs an Argo CD resource health script the way Argo CD's controller runs
// a script from argocd-cm, so that deploy/argocd/health.lua is tested in the runtime it ships to:
//
//   - the same Lua VM: github.com/yuin/gopher-lua (Lua 5.1) v1.1.1, as Argo CD 3.3 and 3.4 pin (3.5 pins
//     v1.1.2, a bug-fix release);
//   - the same library set: without resource.customizations.useOpenLibs, Argo CD opens only the base,
//     table and package libraries and an `os` table holding just `time` and `date` (also loadable with
//     require("os")) -- no `string`, no `math`, no `io`; string methods such as ("x"):len() fail too;
//   - the object handed over as the global `obj` (JSON numbers become Lua numbers), a 1 s time limit;
//   - the answer read as Argo CD reads it: the returned value must be a table, which is turned into
//     JSON and decoded into {status, message} (and `deletionMessage`, read by Argo CD versions that let
//     a script describe a deletion); a status word outside Healthy, Progressing, Degraded, Suspended,
//     Missing, Unknown becomes Unknown "Lua returned an invalid health status".
//
// Input on stdin: {"script": "...", "objects": [obj, ...]}. Output on stdout: one result per object,
// {"status","message","deletionMessage"} or {"error"} when the script failed or returned no table
// (Argo CD then shows Unknown with that error).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

type input struct {
	Script  string           `json:"script"`
	Objects []map[string]any `json:"objects"`
}

type result struct {
	Status          string `json:"status,omitempty"`
	Message         string `json:"message,omitempty"`
	DeletionMessage string `json:"deletionMessage,omitempty"`
	Error           string `json:"error,omitempty"`
}

var healthWords = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

func main() {
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	var in input
	decoder := json.NewDecoder(strings.NewReader(string(raw)))
	decoder.UseNumber()
	if err := decoder.Decode(&in); err != nil {
		fail(err)
	}
	out := make([]result, 0, len(in.Objects))
	for _, obj := range in.Objects {
		out = append(out, evaluate(in.Script, obj))
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "argocd-lua:", err)
	os.Exit(2)
}

func evaluate(script string, obj map[string]any) result {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.OsLibName, openRestrictedOs},
	} {
		if err := L.CallByParam(lua.P{Fn: L.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return result{Error: err.Error()}
		}
	}
	L.PreloadModule(lua.OsLibName, loadRestrictedOs)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	L.SetContext(ctx)
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(script); err != nil {
		return result{Error: err.Error()}
	}
	ret := L.Get(-1)
	table, ok := ret.(*lua.LTable)
	if !ok {
		return result{Error: fmt.Sprintf("expect table output from Lua script, not %s", ret.Type().String())}
	}
	encoded, err := json.Marshal(fromLua(table))
	if err != nil {
		return result{Error: err.Error()}
	}
	var health struct {
		Status          string `json:"status"`
		Message         string `json:"message"`
		DeletionMessage string `json:"deletionMessage"`
	}
	if err := json.Unmarshal(encoded, &health); err != nil {
		return result{Error: err.Error()}
	}
	if !healthWords[health.Status] {
		return result{Status: "Unknown", Message: "Lua returned an invalid health status"}
	}
	return result{Status: health.Status, Message: health.Message, DeletionMessage: health.DeletionMessage}
}

// The `os` Argo CD gives scripts: time and date only.
var osFunctions = map[string]lua.LGFunction{"time": osTime, "date": osDate}

func openRestrictedOs(L *lua.LState) int {
	L.Push(L.RegisterModule(lua.OsLibName, osFunctions))
	return 1
}

func loadRestrictedOs(L *lua.LState) int {
	L.Push(L.SetFuncs(L.NewTable(), osFunctions))
	return 1
}

func osTime(L *lua.LState) int {
	if L.GetTop() == 0 {
		L.Push(lua.LNumber(time.Now().Unix()))
		return 1
	}
	t := L.CheckTable(1)
	field := func(name string, def int) int {
		if n, ok := t.RawGetString(name).(lua.LNumber); ok {
			return int(n)
		}
		return def
	}
	at := time.Date(field("year", 1970), time.Month(field("month", 1)), field("day", 1),
		field("hour", 12), field("min", 0), field("sec", 0), 0, time.Local)
	L.Push(lua.LNumber(at.Unix()))
	return 1
}

// osDate supports what a health script may need: "*t" / "!*t" tables and a few strftime fields.
func osDate(L *lua.LState) int {
	format := L.OptString(1, "%c")
	at := time.Now()
	if L.GetTop() >= 2 {
		at = time.Unix(L.CheckInt64(2), 0)
	}
	if strings.HasPrefix(format, "!") {
		at = at.UTC()
		format = format[1:]
	}
	if strings.HasPrefix(format, "*t") {
		t := L.NewTable()
		for name, value := range map[string]int{
			"year": at.Year(), "month": int(at.Month()), "day": at.Day(), "hour": at.Hour(),
			"min": at.Minute(), "sec": at.Second(), "wday": int(at.Weekday()) + 1, "yday": at.YearDay(),
		} {
			t.RawSetString(name, lua.LNumber(value))
		}
		t.RawSetString("isdst", lua.LFalse)
		L.Push(t)
		return 1
	}
	layouts := map[byte]string{
		'Y': "2006", 'm': "01", 'd': "02", 'H': "15", 'M': "04", 'S': "05", 'c': time.ANSIC, 'F': "2006-01-02",
	}
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] == '%' && i+1 < len(format) {
			if layout, ok := layouts[format[i+1]]; ok {
				b.WriteString(at.Format(layout))
				i++
				continue
			}
		}
		b.WriteByte(format[i])
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// toLua hands a JSON value to Lua as Argo CD does: objects and arrays become tables, numbers numbers.
func toLua(L *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return lua.LString(v.String())
		}
		return lua.LNumber(f)
	case float64:
		return lua.LNumber(v)
	case []any:
		t := L.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(L, item))
		}
		return t
	case map[string]any:
		t := L.CreateTable(0, len(v))
		for key, item := range v {
			t.RawSetH(lua.LString(key), toLua(L, item))
		}
		return t
	}
	return lua.LNil
}

// fromLua turns the returned table into JSON-able values: a table with keys 1..n is an array.
func fromLua(value lua.LValue) any {
	switch v := value.(type) {
	case *lua.LTable:
		if n := v.MaxN(); n > 0 {
			items := make([]any, 0, n)
			for i := 1; i <= n; i++ {
				items = append(items, fromLua(v.RawGetInt(i)))
			}
			return items
		}
		m := map[string]any{}
		v.ForEach(func(key, item lua.LValue) {
			m[key.String()] = fromLua(item)
		})
		return m
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return float64(v)
	case lua.LBool:
		return bool(v)
	}
	return nil
}
