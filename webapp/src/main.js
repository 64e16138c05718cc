// Genting Lapangan: the field app of the kader, the lurah and the donor (CONTRACT.md, Field app).
// Screens read through the deployment's /api; every write goes to the outbox (outbox.js), so the
// same path works with and without a signal.
import { render } from "preact";
import { html } from "htm/preact";
import { signal } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";
import { session, signIn, completeSignIn, signOut, token } from "./auth.js";
import { get, setBase, photoUrl, openFile, today, addDays, rupiah, shrink, Offline } from "./api.js";
import * as outbox from "./outbox.js";

const config = signal(null);
const route = signal(location.hash.slice(1) || "/");
const editing = signal(null); // a refused item being fixed: { item }
window.addEventListener("hashchange", () => (route.value = location.hash.slice(1) || "/"));
const go = (to) => (location.hash = to);

const STATUS = { registered: "menunggu verifikasi", enrolled: "terverifikasi", rejected: "ditolak", exited: "keluar" };
const PLAN = { active: "berjalan", open: "berjalan", completed: "selesai", incomplete: "tidak lengkap", closed: "ditutup" };
const RISKS = {
  unsafe_drinking_water: "Air minum tidak layak",
  no_proper_latrine: "Jamban tidak layak",
  mother_too_young: "Ibu terlalu muda (< 20)",
  mother_too_old: "Ibu terlalu tua (≥ 35)",
  births_too_close: "Jarak kelahiran terlalu dekat",
  too_many_children: "Anak terlalu banyak (> 3)",
  uninhabitable_house: "Rumah tidak layak huni",
  poor: "Keluarga miskin",
};
const ROLES = { pregnant_mother: "Ibu hamil", breastfeeding_mother: "Ibu menyusui", baduta: "Baduta (< 2 tahun)", other: "Lainnya" };
const CATEGORIES = { missed_delivery: "Makanan tidak diantar", food_quality: "Mutu makanan", eligibility: "Kelayakan", conduct: "Perilaku petugas", other: "Lainnya" };

// -- small pieces -------------------------------------------------------------------------

function useData(path, deps = []) {
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    let live = true;
    if (!path) return;
    get(path)
      .then((data) => live && setState({ data }))
      .catch((error) => live && setState({ error: error instanceof Offline ? "Tidak ada sinyal dan belum ada salinan di ponsel." : error.message, status: error.status }));
    return () => (live = false);
  }, [path, ...deps]);
  return state;
}

// Forms fill their inputs with defaultValue, never value: a controlled value would put back what
// was typed whenever the screen re-renders (a list arriving, the outbox changing).
function Field({ id, label, errors, children, hint }) {
  const mine = (errors || []).filter((e) => e.field === id || e.field.startsWith(id + ".") || e.field.startsWith(id + "["));
  return html`<div>
    <label for=${id}>${label}</label>
    ${children}
    ${hint && html`<div class="muted">${hint}</div>`}
    ${mine.map((e) => html`<p class="error" id=${id + "-error"} role="alert">${e.message}</p>`)}
  </div>`;
}

function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

function Outbox() {
  const list = outbox.items.value;
  const waiting = list.filter((i) => i.status === "waiting");
  const refused = list.filter((i) => i.status === "refused");
  const cls = list.length ? "outbox" : "outbox empty";
  return html`<section class=${cls} aria-live="polite" id="outbox">
    <strong>${list.length ? `${list.length} data menunggu dikirim` : "Semua data sudah terkirim"}</strong>
    ${outbox.paused.value &&
    html`<p class="error">Masuk lagi untuk mengirim ${list.length} data.</p>
      <button class="primary" onClick=${() => signIn(config.value)}>Masuk lagi</button>`}
    ${list.length > 0 &&
    html`<ul>
      ${waiting.map((i) => html`<li data-status="waiting">${i.label} — menunggu${(i.after || []).length ? " (setelah data sebelumnya)" : ""}</li>`)}
      ${refused.map(
        (i) => html`<li data-status="refused">
          <strong>${i.label}: ditolak</strong>
          <div class="error">${i.problem?.detail || i.problem?.title}</div>
          ${(i.problem?.errors || []).map((e) => html`<div class="error">${e.field}: ${e.message}</div>`)}
          <div class="row">
            ${i.form && html`<button onClick=${() => { editing.value = { item: i }; go(i.form); }}>Perbaiki</button>`}
            <button class="danger" onClick=${() => confirm("Buang data ini?") && outbox.discard(i)}>Buang</button>
          </div>
        </li>`,
      )}
    </ul>
    <button class="primary" disabled=${outbox.sending.value} onClick=${() => { outbox.resume(); outbox.sendAll(); }}>
      ${outbox.sending.value ? "Mengirim…" : "Kirim sekarang"}
    </button>`}
  </section>`;
}

/** Queue a write made by a form; if it fixes a refused item, that one goes (a new key: an edit is a new item). */
async function queue(spec) {
  const fixing = editing.value?.item;
  const id = await outbox.enqueue(spec);
  if (fixing) {
    // What waited for the refused item (a delivery's photo) now waits for its replacement.
    await outbox.repoint(fixing.id, id);
    await outbox.discard(fixing);
    editing.value = null;
  }
  return id;
}

function fixing(form) {
  const e = editing.value;
  return e && e.item.form === form ? e.item : null;
}

// -- kader --------------------------------------------------------------------------------

function dueThisWeek(plan) {
  if (!plan || plan.status !== "active") return [];
  const covered = addDays(plan.start_date, plan.days_covered - 1);
  const inAWeek = addDays(today(), 7);
  if (covered >= inAWeek) return [];
  return [plan.days_covered ? `Antar makanan (makanan cukup s.d. ${covered})` : "Antar makanan (belum ada pengantaran)"];
}

function Families() {
  const kel = session.value.claims.kelurahan;
  const families = useData(`/registry/families?kelurahan_code=${kel}&limit=200`);
  const plans = useData(`/aid/plans?kelurahan_code=${kel}&limit=200`);
  const visits = useData(`/aid/home-visits?kelurahan_code=${kel}&status=open`);
  if (families.error) return html`<p class="error">${families.error}</p>`;
  if (families.loading) return html`<p>Memuat…</p>`;
  const planOf = Object.fromEntries((plans.data?.items || []).map((p) => [p.family_id, p]));
  const visitsOf = {};
  for (const v of visits.data?.items || []) (visitsOf[v.family_id] ||= []).push(v);
  return html`<h2>Keluarga (${families.data.total})</h2>
    ${families.data.items.map((f) => {
      const plan = planOf[f.family_id];
      const due = [...dueThisWeek(plan), ...(visitsOf[f.family_id] || []).map(() => "Kunjungan rumah")];
      return html`<article class="card family" data-family=${f.family_id}>
        <h3>${f.head_name || "Keluarga " + f.family_id.slice(0, 8)}</h3>
        <div><span class="badge">${STATUS[f.status] || f.status}</span>
          ${plan && html` <span class="badge">${PLAN[plan.status]}: ${plan.days_covered}/${plan.days} hari</span>`}</div>
        ${due.length > 0 && html`<p><strong>Minggu ini:</strong> ${due.join(", ")}</p>`}
        <div class="row">
          ${plan && plan.status === "active" && html`<a class="button" href=${`#/antar/${f.family_id}/${plan.plan_id}`}>Antar makanan</a>`}
          ${f.members.some((m) => m.role === "baduta") && html`<a class="button" href=${`#/timbang/${f.family_id}`}>Timbang</a>`}
          ${(visitsOf[f.family_id] || []).map((v) => html`<button onClick=${() => queue({ label: "Kunjungan rumah", path: `/aid/home-visits/${v.flag_id}/visit`, body: { visited_on: today() } })}>Catat kunjungan</button>`)}
        </div>
      </article>`;
    })}`;
}

function Register() {
  const fix = fixing("/daftar");
  const old = fix?.body;
  const errors = fix?.problem?.errors || [];
  const kel = session.value.claims.kelurahan;
  const [members, setMembers] = useState(old?.members?.length || 2);
  const submit = async (e) => {
    e.preventDefault();
    const v = formValues(e.target);
    const body = {
      kk_number: v.kk_number.trim(),
      head_name: v.head_name.trim(),
      address: v.address.trim(),
      kelurahan_code: kel,
      members: [...Array(members).keys()].map((i) => ({
        name: v[`m${i}_name`].trim(),
        nik: v[`m${i}_nik`].trim() || null,
        role: v[`m${i}_role`],
        birth_date: v[`m${i}_birth`],
        sex: v[`m${i}_sex`],
        ...(v[`m${i}_role`] === "pregnant_mother" && v[`m${i}_edd`] ? { expected_delivery_date: v[`m${i}_edd`] } : {}),
      })),
      risk_factors: Object.keys(RISKS).filter((r) => v[`risk_${r}`]),
      consent: v.consent === "on",
    };
    await queue({ label: `Daftar keluarga ${body.head_name}`, path: "/registry/families", body, form: "/daftar" });
    go("/");
  };
  return html`<form onSubmit=${submit} id="register">
    <h2>${fix ? "Perbaiki pendaftaran" : "Daftarkan keluarga"}</h2>
    <${Field} id="head_name" label="Nama kepala keluarga" errors=${errors}><input id="head_name" name="head_name" required defaultValue=${old?.head_name} autocomplete="off" /><//>
    <${Field} id="kk_number" label="Nomor KK (16 angka)" errors=${errors}><input id="kk_number" name="kk_number" inputmode="numeric" required defaultValue=${old?.kk_number} /><//>
    <${Field} id="address" label="Alamat" errors=${errors}><input id="address" name="address" required defaultValue=${old?.address} /><//>
    ${[...Array(members).keys()].map((i) => {
      const m = old?.members?.[i] || {};
      return html`<fieldset>
        <legend>Anggota ${i + 1}</legend>
        <${Field} id=${`members[${i}].name`} label="Nama" errors=${errors}><input id=${`members[${i}].name`} name=${`m${i}_name`} required defaultValue=${m.name} /><//>
        <${Field} id=${`members[${i}].nik`} label="NIK (kosongkan untuk bayi baru lahir)" errors=${errors}><input id=${`members[${i}].nik`} name=${`m${i}_nik`} inputmode="numeric" defaultValue=${m.nik} /><//>
        <${Field} id=${`members[${i}].role`} label="Peran" errors=${errors}>
          <select id=${`members[${i}].role`} name=${`m${i}_role`}>${Object.entries(ROLES).map(([k, t]) => html`<option value=${k} selected=${(m.role || (i ? "baduta" : "breastfeeding_mother")) === k}>${t}</option>`)}</select><//>
        <${Field} id=${`members[${i}].birth_date`} label="Tanggal lahir" errors=${errors}><input type="date" id=${`members[${i}].birth_date`} name=${`m${i}_birth`} required defaultValue=${m.birth_date} /><//>
        <${Field} id=${`members[${i}].sex`} label="Jenis kelamin" errors=${errors}>
          <select id=${`members[${i}].sex`} name=${`m${i}_sex`}><option value="F" selected=${m.sex !== "M"}>Perempuan</option><option value="M" selected=${m.sex === "M"}>Laki-laki</option></select><//>
        <${Field} id=${`members[${i}].expected_delivery_date`} label="Perkiraan lahir (ibu hamil)" errors=${errors}><input type="date" id=${`members[${i}].expected_delivery_date`} name=${`m${i}_edd`} defaultValue=${m.expected_delivery_date} /><//>
      </fieldset>`;
    })}
    <div class="row"><button type="button" onClick=${() => setMembers(members + 1)}>Tambah anggota</button>
      ${members > 1 && html`<button type="button" onClick=${() => setMembers(members - 1)}>Kurangi anggota</button>`}</div>
    <fieldset><legend>Faktor risiko</legend>
      ${Object.entries(RISKS).map(([k, t]) => html`<label><input type="checkbox" name=${`risk_${k}`} checked=${old?.risk_factors?.includes(k)} style="width:auto;min-height:24px" /> ${t}</label>`)}
      ${errors.filter((e) => e.field.startsWith("risk_factors")).map((e) => html`<p class="error">${e.message}</p>`)}
    </fieldset>
    <label><input type="checkbox" name="consent" id="consent" checked=${old ? old.consent : false} style="width:auto;min-height:24px" /> Orang tua/wali menyetujui pendataan</label>
    ${errors.filter((e) => e.field === "consent").map((e) => html`<p class="error">${e.message}</p>`)}
    <div class="row"><button class="primary" type="submit">Simpan</button></div>
  </form>`;
}

function Delivery({ familyId, planId }) {
  // A refused delivery is fixed here: its values and the server's reasons next to the fields.
  const form = `/antar/${familyId}/${planId}`;
  const fix = fixing(form);
  const old = fix?.body;
  const errors = fix?.problem?.errors || [];
  const catalogue = useData("/aid/food-catalogue");
  const [photo, setPhoto] = useState(null);
  const [busy, setBusy] = useState(false);
  const foods = catalogue.data?.foods || null;
  const submit = async (e) => {
    e.preventDefault();
    const v = formValues(e.target);
    const body = {
      delivered_on: v.delivered_on,
      period_from: v.period_from,
      period_to: v.period_to,
      value_rp: parseInt(v.value_rp, 10),
      items: [{ name: v.item_name.trim(), quantity: parseFloat(v.quantity), unit: v.unit.trim() }],
    };
    const id = await queue({ label: `Antar makanan ${rupiah(body.value_rp)}`, path: `/aid/plans/${planId}/deliveries`, body, family: familyId, form });
    if (photo) await outbox.enqueue({ label: "Foto pengantaran", path: `/aid/deliveries/{{${id}.delivery_id}}/photo`, photo, after: [id], family: familyId });
    go("/");
  };
  const onPhoto = async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    setBusy(true);
    try {
      setPhoto(await shrink(file));
    } catch {
      setPhoto(file);
    }
    setBusy(false);
  };
  return html`<form onSubmit=${submit} id="delivery">
    <h2>Antar makanan</h2>
    <${Field} id="delivered_on" label="Tanggal diantar" errors=${errors}><input type="date" id="delivered_on" name="delivered_on" defaultValue=${old?.delivered_on || today()} required /><//>
    <${Field} id="period_from" label="Makanan untuk tanggal" errors=${errors}><input type="date" id="period_from" name="period_from" defaultValue=${old?.period_from || today()} required /><//>
    <${Field} id="period_to" label="sampai tanggal" errors=${errors}><input type="date" id="period_to" name="period_to" defaultValue=${old?.period_to || addDays(today(), 6)} required /><//>
    <${Field} id="item_name" label="Bahan makanan" errors=${errors.map((e) => (e.field.startsWith("items") ? { ...e, field: "item_name" } : e))}>
      <input id="item_name" name="item_name" list="foods" required defaultValue=${old?.items?.[0]?.name || "telur ayam"} />
      ${Array.isArray(foods) && html`<datalist id="foods">${foods.map((f) => html`<option value=${f.name} />`)}</datalist>`}<//>
    <div class="row">
      <div style="flex:1"><${Field} id="quantity" label="Jumlah"><input id="quantity" name="quantity" inputmode="decimal" defaultValue=${old?.items?.[0]?.quantity ?? "30"} required /><//></div>
      <div style="flex:1"><${Field} id="unit" label="Satuan"><input id="unit" name="unit" defaultValue=${old?.items?.[0]?.unit || "butir"} required /><//></div>
    </div>
    <${Field} id="value_rp" label="Nilai (rupiah)" hint="Minimal Rp15.000 per hari" errors=${errors}><input id="value_rp" name="value_rp" inputmode="numeric" defaultValue=${old?.value_rp ?? "105000"} required /><//>
    <${Field} id="photo" label="Foto bukti">
      <input type="file" id="photo" accept="image/*" capture="environment" onChange=${onPhoto} /><//>
    ${busy && html`<p>Mengecilkan foto…</p>`}
    ${photo && html`<p class="muted">Foto siap (${Math.round(photo.size / 1024)} KB)</p>`}
    <div class="row"><button class="primary" type="submit" disabled=${busy}>Simpan</button></div>
  </form>`;
}

function Weighing({ familyId }) {
  const form = `/timbang/${familyId}`;
  const fix = fixing(form);
  const old = fix?.body;
  const errors = fix?.problem?.errors || [];
  // The kelurahan's list the families screen loaded (kept by the service worker): works offline.
  const list = useData(`/registry/families?kelurahan_code=${session.value.claims.kelurahan}&limit=200`);
  const family = { data: (list.data?.items || []).find((f) => f.family_id === familyId) };
  const [sent, setSent] = useState(null);
  const answer = sent && outbox.answers.value[sent];
  const flags = useData(answer ? `/aid/home-visits?family_id=${familyId}&kelurahan_code=${session.value.claims.kelurahan}&status=open` : null, [answer]);
  const submit = async (e) => {
    e.preventDefault();
    const v = formValues(e.target);
    const body = { member_id: v.member_id, measured_on: v.measured_on, weight_kg: parseFloat(v.weight_kg), length_cm: parseFloat(v.length_cm) };
    setSent(await queue({ label: "Penimbangan", path: `/registry/families/${familyId}/growth-measurements`, body, family: familyId, form }));
  };
  const children = (family.data?.members || []).filter((m) => m.role === "baduta");
  return html`<form onSubmit=${submit} id="weighing">
    <h2>Timbang anak</h2>
    <${Field} id="member_id" label="Anak" errors=${errors}><select id="member_id" name="member_id" required>${children.map((m) => html`<option value=${m.member_id} selected=${old?.member_id === m.member_id}>${m.name || "Baduta " + m.member_id.slice(0, 6)}</option>`)}</select><//>
    <${Field} id="measured_on" label="Tanggal" errors=${errors}><input type="date" id="measured_on" name="measured_on" defaultValue=${old?.measured_on || today()} required /><//>
    <${Field} id="weight_kg" label="Berat (kg)" errors=${errors}><input id="weight_kg" name="weight_kg" inputmode="decimal" defaultValue=${old?.weight_kg ?? ""} required /><//>
    <${Field} id="length_cm" label="Panjang/tinggi (cm)" errors=${errors}><input id="length_cm" name="length_cm" inputmode="decimal" defaultValue=${old?.length_cm ?? ""} required /><//>
    <div class="row"><button class="primary" type="submit">Simpan</button></div>
    ${sent && !answer && html`<p class="card" id="weighing-result">Tersimpan di ponsel; z-skor muncul setelah terkirim.</p>`}
    ${answer && html`<p class="card" id="weighing-result">z-skor TB/U: <strong>${Number(answer.haz).toFixed(2)}</strong>
      ${answer.stunted ? html` <span class="badge bad">stunting</span>` : html` <span class="badge">tidak stunting</span>`}
      ${flags.data?.items?.length ? html`<br /><span class="badge warn">Perlu kunjungan rumah</span>` : ""}</p>`}
  </form>`;
}

function Grievance() {
  const submit = async (e) => {
    e.preventDefault();
    const v = formValues(e.target);
    const body = { kelurahan_code: session.value.claims.kelurahan, category: v.category, description: v.description.trim() };
    await queue({ label: "Aduan", path: "/aid/grievances", body, form: "/aduan-baru" });
    go("/");
  };
  return html`<form onSubmit=${submit} id="grievance">
    <h2>Sampaikan aduan</h2>
    <${Field} id="category" label="Jenis aduan"><select id="category" name="category">${Object.entries(CATEGORIES).map(([k, t]) => html`<option value=${k}>${t}</option>`)}</select><//>
    <${Field} id="description" label="Uraian"><textarea id="description" name="description" rows="4" required></textarea><//>
    <div class="row"><button class="primary" type="submit">Kirim</button></div>
  </form>`;
}

// -- lurah --------------------------------------------------------------------------------

function Verification() {
  const kel = session.value.claims.kelurahan;
  const queued = outbox.items.value.map((i) => i.path);
  const list = useData(`/registry/families?kelurahan_code=${kel}&status=registered&limit=200`);
  if (list.error) return html`<p class="error">${list.error}</p>`;
  if (list.loading) return html`<p>Memuat…</p>`;
  const decide = (f, decision) => {
    const note = decision === "reject" ? prompt("Alasan penolakan:") : "Data sesuai";
    if (!note) return;
    queue({ label: `${decision === "approve" ? "Setujui" : "Tolak"} ${f.head_name || "keluarga"}`, path: `/registry/families/${f.family_id}/verification`, body: { decision, note } });
  };
  const waiting = list.data.items.filter((f) => !queued.includes(`/registry/families/${f.family_id}/verification`));
  return html`<h2>Verifikasi (${waiting.length})</h2>
    ${waiting.map((f) => html`<article class="card" data-family=${f.family_id}>
      <h3>${f.head_name || "Keluarga " + f.family_id.slice(0, 8)}</h3>
      <p class="muted">${f.address || ""} · ${f.members.length} anggota · ${f.risk_factors.map((r) => RISKS[r] || r).join(", ")}</p>
      <div class="row"><button class="primary" onClick=${() => decide(f, "approve")}>Setujui</button><button class="danger" onClick=${() => decide(f, "reject")}>Tolak</button></div>
    </article>`)}`;
}

function Photo({ id }) {
  const [url, setUrl] = useState(null);
  useEffect(() => {
    photoUrl(id).then(setUrl);
  }, [id]);
  return url ? html`<img class="photo" src=${url} alt="Foto bukti pengantaran" width="320" height="240" style="height:auto" />` : html`<p class="muted">Foto belum bisa dimuat.</p>`;
}

function Confirmations() {
  const kel = session.value.claims.kelurahan;
  const [plans, setPlans] = useState(null);
  const queued = outbox.items.value.map((i) => i.path);
  useEffect(() => {
    get(`/aid/plans?kelurahan_code=${kel}&status=active&limit=200`)
      .then((page) => Promise.all(page.items.map((p) => get(`/aid/plans/${p.plan_id}`))))
      .then(setPlans)
      .catch(() => setPlans([]));
  }, []);
  if (!plans) return html`<p>Memuat…</p>`;
  const open = plans.flatMap((p) => p.deliveries.filter((d) => !d.confirmed && !queued.includes(`/aid/deliveries/${d.delivery_id}/confirmation`)));
  return html`<h2>Konfirmasi pengantaran (${open.length})</h2>
    ${open.map((d) => html`<article class="card" data-delivery=${d.delivery_id}>
      <h3>${rupiah(d.value_rp)} · ${d.delivered_on}</h3>
      <p class="muted">${d.items.map((i) => `${i.quantity} ${i.unit} ${i.name || i.code}`).join(", ")} · ${d.period_from} s.d. ${d.period_to}</p>
      ${d.photos.length ? html`<${Photo} id=${d.photos[0]} />` : html`<p class="muted">Belum ada foto.</p>`}
      <div class="row"><button class="primary" onClick=${() => queue({ label: "Konfirmasi pengantaran", path: `/aid/deliveries/${d.delivery_id}/confirmation`, body: d.photos.length ? { photo_id: d.photos[0] } : {} })}>Konfirmasi</button></div>
    </article>`)}`;
}

function Grievances() {
  const kel = session.value.claims.kelurahan;
  const list = useData(`/aid/grievances?kelurahan_code=${kel}`);
  if (list.error) return html`<p class="muted">Aduan belum bisa dimuat: ${list.error}</p>`;
  if (list.loading) return html`<p>Memuat…</p>`;
  const items = list.data.items || list.data;
  const resolve = (g) => {
    const resolution = prompt("Penyelesaian:");
    if (resolution) queue({ label: "Selesaikan aduan", path: `/aid/grievances/${g.grievance_id}/resolution`, body: { resolution, resolved_on: today() } });
  };
  return html`<h2>Aduan</h2>${items.map((g) => html`<article class="card"><h3>${CATEGORIES[g.category] || g.category} <span class="badge">${g.status}</span></h3><p>${g.description}</p>
    ${g.status !== "resolved" && html`<button onClick=${() => resolve(g)}>Selesaikan</button>`}</article>`)}`;
}

function Progress() {
  const progress = useData("/reporting/progress");
  if (progress.error) return html`<p class="error">${progress.error}</p>`;
  if (progress.loading) return html`<p>Memuat…</p>`;
  const k = progress.data.by_kelurahan.find((r) => r.kelurahan_code === session.value.claims.kelurahan) || {};
  const rows = [["Didaftarkan", k.registered], ["Terdaftar", k.enrolled], ["Punya orang tua asuh", k.sponsored], ["Bantuan berjalan", k.aid_active], ["Selesai", k.completed], ["Keluar", k.exited]];
  return html`<h2>Kemajuan ${k.kelurahan || ""}</h2><dl class="card">${rows.map(([t, n]) => html`<div class="row"><dt style="flex:1">${t}</dt><dd><strong>${n ?? 0}</strong></dd></div>`)}</dl>`;
}

// -- donor --------------------------------------------------------------------------------

// The donor's money as the statement gives it; what paid distribution (bringing the food, where the
// city pays it) and what the donor gave in kind are shown apart, and only when there is any.
function donorFigures(s) {
  const rows = [["Dijanjikan", s.pledged_rp], ["Diterima", s.received_rp], ["Dialokasikan", s.allocated_rp], ["Terpakai", s.drawn_rp]];
  if (s.drawn_distribution_rp) rows.push(["… untuk makanan", s.drawn_rp - s.drawn_distribution_rp], ["… untuk distribusi", s.drawn_distribution_rp]);
  rows.push(["Tersedia", s.available_rp]);
  if (s.in_kind_interventions_rp) rows.push(["Bantuan natura (intervensi)", s.in_kind_interventions_rp]);
  return rows;
}

function Donor() {
  const id = session.value.claims.donor_id;
  const statement = useData(`/funding/donors/${id}`);
  const families = useData(`/funding/donors/${id}/families`);
  const s = statement.data;
  // One render when both answers are in: the page does not jump as each arrives (layout shift).
  if (statement.loading || families.loading) return html`<h2>Orang tua asuh</h2><p class="muted" role="status">Memuat…</p>`;
  return html`<h2>Orang tua asuh</h2>
    ${s && html`<dl class="card">${donorFigures(s).map(([t, n]) => html`<div class="row"><dt style="flex:1">${t}</dt><dd><strong>${rupiah(n)}</strong></dd></div>`)}</dl>`}
    ${statement.error && html`<p class="error">${statement.error}</p>`}
    <h2>Keluarga asuh</h2>
    ${(families.data?.items || []).map((f) => html`<article class="card"><h3>Keluarga ${f.family_id.slice(0, 8)}</h3><p>${PLAN[f.plan_status] || f.plan_status || "-"} · ${f.days_covered ?? 0} hari · ${f.confirmed_deliveries ?? 0}/${f.deliveries ?? 0} pengantaran dikonfirmasi</p><${Coverage} family=${f} /><p class="muted">Dari Anda: ${rupiah(f.your_sponsored_rp)} · terpakai ${rupiah(f.your_drawn_rp)}</p></article>`)}
    ${families.error && html`<p class="muted">${families.error}</p>`}
    <h2>Tanda terima</h2>
    ${(s?.contributions || []).map((c) => html`<div class="card row"><span style="flex:1">${c.received_on} · ${rupiah(c.amount_rp)} · ${c.method}</span><button type="button" onClick=${() => openFile(`/funding/donors/${id}/contributions/${c.contribution_id}/receipt`)}>Unduh</button></div>`)}`;
}

/** Days covered against the days of the plan's window gone by so far: a donor sees at a glance
 *  whether the food keeps pace with time. */
function Coverage({ family }) {
  if (!family.start_date || !family.end_date) return null;
  const day = (iso) => new Date(iso + "T00:00:00Z").getTime() / 86400000;
  const length = day(family.end_date) - day(family.start_date) + 1;
  const gone = Math.max(0, Math.min(length, day(today()) - day(family.start_date) + 1));
  const covered = Math.min(length, family.days_covered || 0);
  const w = (n) => `${(100 * n) / length}%`;
  return html`<svg role="img" aria-label=${`${covered} dari ${gone} hari berjalan tertutup bantuan (${length} hari rencana)`} width="100%" height="28">
    <rect x="0" y="2" width="100%" height="10" rx="3" fill="#e3e7ea" />
    <rect x="0" y="2" width=${w(gone)} height="10" rx="3" fill="#9aa5ad" />
    <rect x="0" y="16" width="100%" height="10" rx="3" fill="#e3e7ea" />
    <rect x="0" y="16" width=${w(covered)} height="10" rx="3" fill="#1b7f3b" />
  </svg><p class="muted">Abu-abu: hari berjalan (${gone}/${length}); hijau: hari tertutup bantuan (${covered}).</p>`;
}

// -- the shell ----------------------------------------------------------------------------

const TABS = {
  kader: [["/", "Keluarga"], ["/daftar", "Daftar keluarga"], ["/aduan-baru", "Aduan"]],
  lurah: [["/", "Verifikasi"], ["/konfirmasi", "Konfirmasi"], ["/aduan", "Aduan"], ["/kemajuan", "Kemajuan"]],
  donor: [["/", "Ringkasan"]],
};

function Screen() {
  const role = session.value.claims.role;
  const [path, a, b] = route.value.split("/").filter(Boolean).map((p) => "/" + p);
  const r = path || "/";
  if (role === "kader") {
    if (r === "/daftar") return html`<${Register} />`;
    if (r === "/antar") return html`<${Delivery} familyId=${a.slice(1)} planId=${b.slice(1)} />`;
    if (r === "/timbang") return html`<${Weighing} familyId=${a.slice(1)} />`;
    if (r === "/aduan-baru") return html`<${Grievance} />`;
    return html`<${Families} />`;
  }
  if (role === "lurah") {
    if (r === "/konfirmasi") return html`<${Confirmations} />`;
    if (r === "/aduan") return html`<${Grievances} />`;
    if (r === "/kemajuan") return html`<${Progress} />`;
    return html`<${Verification} />`;
  }
  if (role === "donor") return html`<${Donor} />`;
  return html`<p>Peran ${role} tidak memakai aplikasi ini.</p>`;
}

function App() {
  if (!config.value) return html`<main class="page"><h1>Genting Lapangan</h1><p>Memuat…</p></main>`;
  const s = session.value;
  if (!s)
    return html`<main class="page"><h1>Genting Lapangan</h1><p>Pendataan keluarga, pengantaran makanan, penimbangan dan kunjungan rumah — juga tanpa sinyal.</p>
      <button class="primary" onClick=${() => signIn(config.value)}>Masuk</button><${Outbox} /></main>`;
  const role = s.claims.role;
  const leave = () => {
    if (outbox.items.value.length && !confirm(`${outbox.items.value.length} data belum terkirim dan tetap di ponsel. Keluar?`)) return;
    signOut();
  };
  return html`<header class="bar"><h1>Genting · ${role}${s.claims.kelurahan ? " " + s.claims.kelurahan : ""}</h1>
      <button onClick=${leave} style="border-color:#fff;background:transparent">Keluar</button></header>
    <main class="page">
      <nav class="tabs" aria-label="Menu">${(TABS[role] || []).map(([to, t]) => html`<a href=${"#" + to} aria-current=${route.value === to ? "page" : undefined}>${t}</a>`)}</nav>
      <${Outbox} />
      <${Screen} key=${route.value} />
    </main>`;
}

async function start() {
  const answer = await fetch("config.json").catch(() => null);
  const cfg = answer && answer.ok ? await answer.json() : JSON.parse(localStorage.getItem("genting-config") || "null");
  if (cfg) localStorage.setItem("genting-config", JSON.stringify(cfg));
  setBase(cfg?.api || "/api");
  outbox.configure({ token, api: cfg?.api || "/api" });
  try {
    if (cfg && (await completeSignIn(cfg))) outbox.resume();
  } catch (error) {
    console.warn("sign-in failed", error);
  }
  config.value = cfg || { api: "/api" };
  outbox.startTriggers();
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("sw.js").catch(() => {});
}

render(html`<${App} />`, document.getElementById("app"));
start();
