/*
 * Display text of the simulated store (Chilean names, places, products), derived
 * from the seed and an item's id so nothing of it needs to be stored.
 */
#include "common.h"

#include "sim_text.h"

#include <stdio.h>
#include <string.h>

static const char *const first_names[] = {
    "José",      "María",    "Begoña", "Iñaki",   "Ángela",   "Sebastián", "Valentina",
    "Joaquín",   "Catalina", "Matías", "Sofía",   "Benjamín", "Antonia",   "Tomás",
    "Florencia", "Martín",   "Josefa", "Agustín", "Fernanda", "Ignacio"};
static const char *const last_names[] = {
    "Muñoz",     "González", "Rodríguez",  "Pérez",     "Núñez",   "Díaz",  "Soto",
    "Contreras", "Silva",    "Martínez",   "Sepúlveda", "Morales", "Rojas", "Fuentes",
    "Araya",     "Espinoza", "Valenzuela", "Castillo",  "Tapia",   "O'Ryan"};
static const char *const companies[] = {
    "Veterinaria Los Ñires SpA",  "Distribuidora \"El Perro Feliz\" Ltda.",
    "Mascotas 🐶 del Sur SpA",     "Clínica Veterinaria Ñuñoa Ltda.",
    "Agropecuaria San José S.A.", "Peluquería Canina Patitas E.I.R.L.",
    "Criadero Los Álamos",        "Comercial Acuario & Compañía Ltda."};
static const char *const municipalities[] = {
    "Providencia", "Ñuñoa",        "Las Condes", "Maipú",     "Puente Alto",
    "La Florida",  "Viña del Mar", "Concepción", "Peñalolén", "Vitacura"};
static const char *const cities[] = {"Santiago", "Santiago", "Santiago",   "Santiago",
                                     "Santiago", "Santiago", "Valparaíso", "Concepción",
                                     "Santiago", "Santiago"};
static const char *const streets[] = {
    "Av. Providencia",     "Irarrázaval", "Av. Pajaritos",         "Gran Avenida",
    "Av. Vicuña Mackenna", "Los Leones",  "José Pedro Alessandri", "Av. Grecia"};
static const char *const activities[] = {"Sin Giro", "Venta al por menor de alimento para mascotas",
                                         "Servicios veterinarios", "Comercio al por mayor"};
static const char *const product_bases[] = {"Alimento Perro Adulto",
                                            "Alimento Gato Esterilizado",
                                            "Arena Sanitaria Aglomerante",
                                            "Collar Antipulgas",
                                            "Arnés Ajustable",
                                            "Snack Dental",
                                            "Juguete Mordedor",
                                            "Cama Acolchada",
                                            "Shampoo Hipoalergénico",
                                            "Comedero Acero Inox.",
                                            "Rascador Torre",
                                            "Correa Retráctil"};
static const char *const brands[] = {"Champion Dog", "Royal Canin", "Pro Plan",    "Cat Chow",
                                     "Brit",         "Master Dog",  "Fit Formula", "Acana"};
static const char *const type_names[] = {"Alimento Perro",
                                         "Alimento Gato",
                                         "Accesorios",
                                         "Juguetes",
                                         "Higiene y Cuidado",
                                         "Snacks y Premios",
                                         "Farmacia Veterinaria",
                                         "Acuarismo",
                                         "Aves y Exóticos",
                                         "Camas y Transportadoras",
                                         "Servicios",
                                         "Granel"};
static const char *const office_names[] = {"Casa Matriz Providencia", "Sucursal Ñuñoa",
                                           "Sucursal Maipú", "Bodega Quilicura",
                                           "Sucursal Viña del Mar"};
static const char *const sizes[] = {"1 KG", "3 KG", "15 KG", "S", "M", "L", "XL", ""};

#define PICK(r, arr) (arr)[rng_below((r), ARRAY_LEN(arr))]

const char *text_first_name(struct rng *r)
{
    return PICK(r, first_names);
}

const char *text_last_name(struct rng *r)
{
    return PICK(r, last_names);
}

const char *text_company(struct rng *r)
{
    return PICK(r, companies);
}

size_t text_place(struct rng *r)
{
    return rng_below(r, ARRAY_LEN(municipalities));
}

const char *text_municipality(size_t place)
{
    return municipalities[place % ARRAY_LEN(municipalities)];
}

const char *text_city(size_t place)
{
    return cities[place % ARRAY_LEN(cities)];
}

void text_address(struct rng *r, char *out, size_t n)
{
    snprintf(out, n, "%s %u", PICK(r, streets), 100 + rng_below(r, 9800));
}

const char *text_activity(struct rng *r)
{
    return PICK(r, activities);
}

void text_office_name(uint32_t idx, char *out, size_t n)
{
    if (idx < ARRAY_LEN(office_names))
        snprintf(out, n, "%s", office_names[idx]);
    else
        snprintf(out, n, "Sucursal %u", idx + 1);
}

void text_type_name(uint32_t idx, char *out, size_t n)
{
    if (idx < ARRAY_LEN(type_names))
        snprintf(out, n, "%s", type_names[idx]);
    else
        snprintf(out, n, "Categoría %u", idx + 1);
}

void text_product_name(struct rng *r, uint32_t idx, bool weighed, bool service, char *out, size_t n)
{
    const char *base = PICK(r, product_bases);
    const char *brand = PICK(r, brands);
    if (service)
        snprintf(out, n, "Baño y Peluquería %s", idx % 2 ? "Perro Mediano" : "Gato");
    else if (weighed)
        snprintf(out, n, "%s a Granel %s (kg)", base, brand);
    else if (idx % 40 == 11)
        snprintf(out, n, "%s \"Premium\" %s", base, brand);
    else if (idx % 50 == 7)
        snprintf(out, n, "%s %s 🐾", base, brand);
    else
        snprintf(out, n, "%s %s", base, brand);
}

const char *text_size(struct rng *r)
{
    return PICK(r, sizes);
}

static void ascii_lower(const char *s, char *out, size_t n)
{
    size_t o = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c && o + 1 < n; c++) {
        if (*c >= 'A' && *c <= 'Z')
            out[o++] = (char)(*c - 'A' + 'a');
        else if ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'))
            out[o++] = (char)*c;
        else if (*c == 0xc3 && c[1]) {
            /* Latin-1 supplement letters: map the common Spanish ones to ASCII. */
            static const char from[] = "\xa1\xa9\xad\xb3\xba\xb1\x81\x89\x8d\x93\x9a\x91";
            static const char to[] = "aeiounaeioun";
            const char *f = strchr(from, (char)c[1]);
            out[o++] = f ? to[f - from] : 'x';
            c++;
        }
    }
    out[o] = '\0';
}

void text_email(const char *first, const char *last, uint32_t id, char *out, size_t n)
{
    char a[32], b[32];
    ascii_lower(first, a, sizeof a);
    ascii_lower(last, b, sizeof b);
    snprintf(out, n, "%s.%s%u@correo.cl", a, b, id % 100);
}
