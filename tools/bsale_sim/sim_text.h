/* Display text of the simulated store; every pointer returned is static (borrowed). */
#ifndef PETL_SIM_TEXT_H
#define PETL_SIM_TEXT_H

#include "sim.h"

const char *text_first_name(struct rng *r);
const char *text_last_name(struct rng *r);
const char *text_company(struct rng *r);
size_t text_place(struct rng *r);
const char *text_municipality(size_t place);
const char *text_city(size_t place);
void text_address(struct rng *r, char *out, size_t n);
const char *text_activity(struct rng *r);
void text_office_name(uint32_t idx, char *out, size_t n);
void text_type_name(uint32_t idx, char *out, size_t n);
void text_product_name(struct rng *r, uint32_t idx, bool weighed, bool service, char *out,
                       size_t n);
const char *text_size(struct rng *r);
void text_email(const char *first, const char *last, uint32_t id, char *out, size_t n);

#endif
