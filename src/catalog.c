/*
 * The warehouse catalog: each table described once (docs/schema.md is
 * generated from it), plus the Bsale JSON -> row conversions. Adding a Bsale
 * resource means adding its entry here: the plan reads its source, the store
 * its DDL, COMMENTs and upserts, the mapper its columns. No SQL dialect here.
 */
#include "common.h"

#include "catalog.h"
#include "json_util.h"
#include "utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEY (CAT_KEY | CAT_NOT_NULL)
#define IDX CAT_INDEX
#define SYNCED                                                                                     \
    {                                                                                              \
        "sincronizado_en", CAT_SYNCED_AT, NULL, CAT_NOT_NULL,                                      \
            "Cuándo el ETL escribió la fila por última vez (UTC).",                                \
            "When the ETL last wrote the row (UTC)."                                               \
    }
#define BSALE_ID(what_es, what_en)                                                                 \
    {                                                                                              \
        "id_bsale", CAT_ID, "id", KEY, "Id Bsale " what_es ".", "Bsale id of " what_en "."         \
    }
#define ESTADO                                                                                     \
    {                                                                                              \
        "estado", CAT_INT, "state", 0,                                                             \
            "Estado Bsale: 0 = activo, 1 = inactivo o anulado, 99 = eliminado.",                   \
            "Bsale state: 0 = active, 1 = inactive or voided, 99 = deleted."                       \
    }
#define FLAG_ES(what) "1 = " what ", 0 = no."
#define FLAG_EN(what) "1 = " what ", 0 = not."

#define TABLE(n, c, res, r, d_es, d_en)                                                            \
    {                                                                                              \
        .name = (n), .cols = (c), .ncols = ARRAY_LEN(c), .resource = (res), .role = (r),           \
        .es = (d_es), .en = (d_en)                                                                 \
    }
/* Master data: each full sync reads the whole list; rows Bsale stops listing are kept. */
#define MASTER_TABLE(n, c, res, r, p, d_es, d_en)                                                  \
    {                                                                                              \
        .name = (n), .cols = (c), .ncols = ARRAY_LEN(c), .resource = (res), .role = (r),           \
        .source = {.fetch = CAT_FETCH_MASTER, .path = (p)}, .es = (d_es), .en = (d_en)             \
    }

/* Records of a parent table, replaced with it; path NULL when only ever embedded. */
#define CHILD_TABLE(n, c, res, r, p, par, pcol, emb, linked, d_es, d_en)                           \
    {                                                                                              \
        .name = (n), .cols = (c), .ncols = ARRAY_LEN(c), .resource = (res), .role = (r),           \
        .source = {.fetch = CAT_FETCH_CHILD,                                                       \
                   .path = (p),                                                                    \
                   .parent = (par),                                                                \
                   .parent_col = (pcol),                                                           \
                   .embedded = (emb),                                                              \
                   .linked_read = (linked)},                                                       \
        .prune = CAT_PRUNE_WITH_PARENT, .es = (d_es), .en = (d_en)                                 \
    }

/*
 * A json path may list alternatives separated by '|': the first present
 * member wins (CL "municipality" vs PE/MX "district").
 */
static const struct cat_column sucursales_cols[] = {
    BSALE_ID("de la sucursal", "the office"),
    {"nombre", CAT_TEXT, "name", 0, "Nombre de la sucursal.", "Office name."},
    {"descripcion", CAT_LONGTEXT, "description", 0, "Descripción.", "Description."},
    {"direccion", CAT_LONGTEXT, "address", 0, "Dirección.", "Street address."},
    {"comuna", CAT_TEXT, "municipality|district", 0, "Comuna (PE/MX: distrito).",
     "Municipality (PE/MX: district)."},
    {"ciudad", CAT_TEXT, "city", 0, "Ciudad.", "City."},
    {"pais", CAT_TEXT, "country", 0, "País.", "Country."},
    {"centro_costo", CAT_TEXT, "costCenter", 0, "Centro de costo contable.",
     "Accounting cost centre."},
    {"es_virtual", CAT_FLAG, "isVirtual", 0, FLAG_ES("sucursal virtual (tienda en línea)"),
     FLAG_EN("virtual office (online store)")},
    ESTADO,
    SYNCED,
};

static const struct cat_column tipos_documento_cols[] = {
    BSALE_ID("del tipo de documento", "the document type"),
    {"nombre", CAT_TEXT, "name", 0, "Nombre (Boleta, Factura, Nota de crédito…).",
     "Name (receipt, invoice, credit note…)."},
    {"codigo_sii", CAT_TEXT, "codeSii", 0,
     "Código SII del documento tributario (texto; 61 = nota de crédito).",
     "Tax authority (SII) document code (text; 61 = credit note)."},
    {"es_electronico", CAT_FLAG, "isElectronicDocument", 0, FLAG_ES("documento electrónico"),
     FLAG_EN("electronic document")},
    {"uso", CAT_INT, "use", 0, "Uso: 0 = venta, 1 = devolución, 2 = despacho, 3 = liquidación.",
     "Use: 0 = sale, 1 = return, 2 = dispatch, 3 = settlement."},
    {"es_nota_venta", CAT_FLAG, "isSalesNote", 0, FLAG_ES("nota de venta"), FLAG_EN("sales note")},
    {"es_nota_credito", CAT_FLAG, "isCreditNote", 0,
     FLAG_ES("nota de crédito (sus montos son positivos: se restan)"),
     FLAG_EN("credit note (its amounts are positive: subtract them)")},
    {"es_exento", CAT_FLAG, "isExempt", 0, FLAG_ES("exento de impuestos"), FLAG_EN("tax exempt")},
    ESTADO,
    SYNCED,
};

static const struct cat_column formas_pago_cols[] = {
    BSALE_ID("de la forma de pago", "the payment type"),
    {"nombre", CAT_TEXT, "name", 0, "Nombre (Efectivo, Tarjeta…).", "Name (cash, card…)."},
    {"es_efectivo", CAT_FLAG, "isCash", 0, FLAG_ES("efectivo"), FLAG_EN("cash")},
    {"es_cheque", CAT_FLAG, "isCheck", 0, FLAG_ES("cheque"), FLAG_EN("cheque")},
    {"es_credito_cliente", CAT_FLAG, "isClientCredit", 0, FLAG_ES("crédito del cliente"),
     FLAG_EN("client credit")},
    {"es_nota_credito", CAT_FLAG, "isCreditNote", 0, FLAG_ES("pago con nota de crédito"),
     FLAG_EN("paid with a credit note")},
    {"es_virtual", CAT_FLAG, "isVirtual", 0, FLAG_ES("pago virtual (en línea)"),
     FLAG_EN("virtual (online) payment")},
    ESTADO,
    SYNCED,
};

static const struct cat_column usuarios_cols[] = {
    BSALE_ID("del usuario", "the user"),
    {"nombre", CAT_TEXT, "firstName", 0, "Nombre.", "First name."},
    {"apellido", CAT_TEXT, "lastName", 0, "Apellido.", "Last name."},
    {"email", CAT_TEXT, "email", 0, "Correo electrónico.", "Email address."},
    {"id_sucursal", CAT_ID, "office.id", IDX, "Sucursal del usuario (sucursales.id_bsale).",
     "The user's office (sucursales.id_bsale)."},
    ESTADO,
    SYNCED,
};

static const struct cat_column tipos_producto_cols[] = {
    BSALE_ID("del tipo de producto", "the product type"),
    {"nombre", CAT_TEXT, "name", 0, "Nombre (categoría).", "Name (category)."},
    ESTADO,
    SYNCED,
};

static const struct cat_column productos_cols[] = {
    BSALE_ID("del producto", "the product"),
    {"nombre", CAT_TEXT, "name", 0, "Nombre del producto.", "Product name."},
    {"descripcion", CAT_LONGTEXT, "description", 0, "Descripción.", "Description."},
    {"clasificacion", CAT_INT, "classification", 0,
     "Clasificación: 0 = producto, 1 = servicio, 3 = pack o promoción.",
     "Classification: 0 = product, 1 = service, 3 = pack or promotion."},
    {"id_tipo_producto", CAT_ID, "product_type.id", IDX,
     "Tipo de producto (tipos_producto.id_bsale).", "Product type (tipos_producto.id_bsale)."},
    {"controla_stock", CAT_FLAG, "stockControl", 0, FLAG_ES("se controla su stock"),
     FLAG_EN("stock is tracked")},
    {"permite_decimal", CAT_FLAG, "allowDecimal", 0, FLAG_ES("admite cantidades decimales"),
     FLAG_EN("decimal quantities allowed")},
    ESTADO,
    SYNCED,
};

static const struct cat_column variantes_cols[] = {
    BSALE_ID("de la variante", "the variant"),
    {"id_producto", CAT_ID, "product.id", IDX, "Producto (productos.id_bsale).",
     "Product (productos.id_bsale)."},
    {"descripcion", CAT_LONGTEXT, "description", 0, "Descripción (talla, sabor…).",
     "Description (size, flavour…)."},
    {"codigo", CAT_TEXT, "code", IDX, "Código interno (SKU).", "Internal code (SKU)."},
    {"codigo_barras", CAT_TEXT, "barCode", 0, "Código de barras.", "Barcode."},
    {"stock_ilimitado", CAT_FLAG, "unlimitedStock", 0, FLAG_ES("stock ilimitado"),
     FLAG_EN("unlimited stock")},
    {"permite_stock_negativo", CAT_FLAG, "allowNegativeStock", 0,
     FLAG_ES("puede venderse sin stock"), FLAG_EN("may be sold without stock")},
    ESTADO,
    SYNCED,
};

static const struct cat_column clientes_cols[] = {
    BSALE_ID("del cliente", "the client"),
    {"nombre", CAT_TEXT, "firstName", 0, "Nombre.", "First name."},
    {"apellido", CAT_TEXT, "lastName", 0, "Apellido.", "Last name."},
    {"rut", CAT_TEXT, "code", IDX, "RUT u otro identificador tributario.",
     "Tax id (RUT or the country's equivalent)."},
    {"email", CAT_TEXT, "email", 0, "Correo electrónico.", "Email address."},
    {"telefono", CAT_TEXT, "phone", 0, "Teléfono.", "Phone number."},
    {"empresa", CAT_LONGTEXT, "company", 0, "Razón social.", "Company name."},
    {"giro", CAT_LONGTEXT, "activity", 0, "Giro (actividad comercial).", "Line of business."},
    {"direccion", CAT_LONGTEXT, "address", 0, "Dirección.", "Street address."},
    {"comuna", CAT_TEXT, "municipality|district", 0, "Comuna (PE/MX: distrito).",
     "Municipality (PE/MX: district)."},
    {"ciudad", CAT_TEXT, "city", 0, "Ciudad.", "City."},
    {"es_empresa", CAT_FLAG, "companyOrPerson", 0, "1 = empresa, 0 = persona.",
     "1 = company, 0 = person."},
    {"tiene_credito", CAT_FLAG, "hasCredit", 0, FLAG_ES("tiene crédito"), FLAG_EN("has credit")},
    {"credito_maximo", CAT_DECIMAL, "maxCredit", 0, "Crédito máximo (moneda local).",
     "Credit limit (local currency)."},
    {"puntos", CAT_INT, "points", 0, "Puntos de fidelización.", "Loyalty points."},
    ESTADO,
    SYNCED,
};

static const struct cat_column listas_precio_cols[] = {
    BSALE_ID("de la lista de precios", "the price list"),
    {"nombre", CAT_TEXT, "name", 0, "Nombre de la lista.", "List name."},
    {"descripcion", CAT_LONGTEXT, "description", 0, "Descripción.", "Description."},
    ESTADO,
    SYNCED,
};

static const struct cat_column precios_cols[] = {
    BSALE_ID("del detalle de la lista", "the list's detail"),
    {"id_lista_precio", CAT_ID, NULL, CAT_PARENT | CAT_NOT_NULL | IDX,
     "Lista de precios (listas_precio.id_bsale).", "Price list (listas_precio.id_bsale)."},
    {"id_variante", CAT_ID, "variant.id", IDX, "Variante (variantes.id_bsale).",
     "Variant (variantes.id_bsale)."},
    {"valor_neto", CAT_DECIMAL, "variantValue", 0, "Precio neto, sin impuestos.",
     "Net price, before taxes."},
    {"valor_con_impuestos", CAT_DECIMAL, "variantValueWithTaxes", 0, "Precio con impuestos.",
     "Price with taxes."},
    SYNCED,
};
static const char *const precios_unique[] = {"id_lista_precio", "id_variante", NULL};

static const struct cat_column stock_cols[] = {
    {"id_variante", CAT_ID, "variant.id", KEY, "Variante (variantes.id_bsale).",
     "Variant (variantes.id_bsale)."},
    {"id_sucursal", CAT_ID, "office.id", KEY | IDX, "Sucursal (sucursales.id_bsale).",
     "Office (sucursales.id_bsale)."},
    {"cantidad", CAT_DECIMAL, "quantity", 0, "Unidades en la sucursal.", "Units at the office."},
    {"cantidad_reservada", CAT_DECIMAL, "quantityReserved", 0, "Unidades reservadas.",
     "Units reserved."},
    {"cantidad_disponible", CAT_DECIMAL, "quantityAvailable", 0,
     "Unidades disponibles (cantidad menos reservada).",
     "Units available (quantity less reserved)."},
    SYNCED,
};

static const struct cat_column documentos_venta_cols[] = {
    BSALE_ID("del documento", "the document"),
    {"id_tipo_documento", CAT_ID, "document_type.id", IDX,
     "Tipo de documento (tipos_documento.id_bsale).", "Document type (tipos_documento.id_bsale)."},
    {"numero", CAT_INT, "number", 0, "Folio del documento.", "Document number (folio)."},
    {"fecha_emision", CAT_DATE, "emissionDate", IDX, "Fecha de emisión (fecha calendario UTC).",
     "Emission date (UTC calendar date)."},
    {"fecha_vencimiento", CAT_DATE, "expirationDate", 0,
     "Fecha de vencimiento (fecha calendario UTC).", "Due date (UTC calendar date)."},
    {"fecha_generacion", CAT_DATETIME, "generationDate", 0, "Instante de generación (UTC).",
     "When it was generated (UTC)."},
    {"id_cliente", CAT_ID, "client.id", IDX,
     "Cliente (clientes.id_bsale); NULL en ventas anónimas.",
     "Client (clientes.id_bsale); NULL for anonymous sales."},
    {"id_sucursal", CAT_ID, "office.id", IDX, "Sucursal (sucursales.id_bsale).",
     "Office (sucursales.id_bsale)."},
    {"id_usuario", CAT_ID, "user.id", IDX, "Vendedor (usuarios.id_bsale).",
     "Seller (usuarios.id_bsale)."},
    {"monto_neto", CAT_DECIMAL, "netAmount", 0, "Monto neto; positivo también en notas de crédito.",
     "Net amount; positive in credit notes too."},
    {"monto_impuestos", CAT_DECIMAL, "taxAmount", 0, "Impuestos.", "Tax amount."},
    {"monto_exento", CAT_DECIMAL, "exemptAmount", 0, "Monto exento.", "Exempt amount."},
    {"monto_total", CAT_DECIMAL, "totalAmount", 0,
     "Total con impuestos; positivo también en notas de crédito.",
     "Total with taxes; positive in credit notes too."},
    {"estado", CAT_INT, "state", 0, "Estado Bsale: 0 = activo, 1 = anulado.",
     "Bsale state: 0 = active, 1 = voided."},
    {"estado_sii", CAT_INT, "informedSii|informed", 0,
     "Estado ante el SII: 0 = aceptado, 1 = enviado, 2 = rechazado (PE/MX: informed).",
     "Tax authority status: 0 = accepted, 1 = sent, 2 = rejected (PE/MX: informed)."},
    {"token", CAT_TEXT, "token", 0, "Token público del documento.", "The document's public token."},
    {"url_pdf", CAT_LONGTEXT, "urlPdf", 0, "URL del PDF.", "URL of the PDF."},
    {"id_lista_precio", CAT_ID, "priceList.id", IDX,
     "Lista de precios usada (listas_precio.id_bsale).",
     "Price list used (listas_precio.id_bsale)."},
    {"monto_afecto", CAT_DECIMAL, "notExemptAmount", 0,
     "Monto afecto a impuestos (neto no exento); positivo también en notas de crédito.",
     "Amount subject to tax (net not exempt); positive in credit notes too."},
    {"estado_anulacion", CAT_INT, "cancellationStatus", 0,
     "Estado de anulación Bsale: 0 = vigente (no anulado); otro valor = anulación en curso o "
     "hecha.",
     "Bsale cancellation status: 0 = in force (not cancelled); other = cancellation pending or "
     "done."},
    {"fecha_anulacion", CAT_DATETIME, "cancellationDate", 0,
     "Instante de la anulación (UTC); NULL si no se anuló. No cambia fecha_emision.",
     "When it was cancelled (UTC); NULL if never. It does not change fecha_emision."},
    SYNCED,
};

static const struct cat_column detalles_venta_cols[] = {
    BSALE_ID("de la línea", "the line"),
    {"id_documento", CAT_ID, NULL, CAT_PARENT | CAT_NOT_NULL | IDX,
     "Documento (documentos_venta.id_bsale).", "Document (documentos_venta.id_bsale)."},
    {"numero_linea", CAT_INT, "lineNumber", 0,
     "Número de línea según Bsale (suele ser 0; ordenar por id_bsale).",
     "Line number as Bsale gives it (often 0; order by id_bsale)."},
    {"id_variante", CAT_ID, "variant.id", IDX, "Variante vendida (variantes.id_bsale).",
     "Variant sold (variantes.id_bsale)."},
    {"cantidad", CAT_DECIMAL, "quantity", 0, "Cantidad.", "Quantity."},
    {"precio_unitario_neto", CAT_DECIMAL, "netUnitValue", 0, "Precio unitario neto.",
     "Net unit price."},
    {"precio_unitario_total", CAT_DECIMAL, "totalUnitValue", 0, "Precio unitario con impuestos.",
     "Unit price with taxes."},
    {"monto_neto", CAT_DECIMAL, "netAmount", 0,
     "Monto neto de la línea (positivo también en notas de crédito: se resta por el tipo del "
     "documento).",
     "The line's net amount (positive in credit notes too: subtract by the document's type)."},
    {"monto_impuestos", CAT_DECIMAL, "taxAmount", 0, "Impuestos de la línea.",
     "The line's tax amount."},
    {"monto_total", CAT_DECIMAL, "totalAmount", 0,
     "Total de la línea (positivo también en notas de crédito).",
     "The line's total (positive in credit notes too)."},
    {"descuento_neto", CAT_DECIMAL, "netDiscount", 0, "Descuento neto.", "Net discount."},
    {"descuento_total", CAT_DECIMAL, "totalDiscount", 0, "Descuento con impuestos.",
     "Discount with taxes."},
    {"nota", CAT_LONGTEXT, "note", 0, "Nota de la línea.", "The line's note."},
    {"precio_unitario_neto_exacto", CAT_DECIMAL, "netUnitValueRaw", 0,
     "Precio unitario neto sin redondear (precio_unitario_neto viene redondeado al peso).",
     "Net unit price unrounded (precio_unitario_neto is rounded to whole pesos)."},
    {"porcentaje_descuento", CAT_DECIMAL, "discountPercentage", 0,
     "Descuento de la línea en porcentaje (10 = 10 %).",
     "The line's discount in percent (10 = 10%)."},
    {"id_detalle_relacionado", CAT_ID, "relatedDetailId", IDX | CAT_ZERO_NULL,
     "Línea de otro documento de la que proviene (detalles_venta.id_bsale): la nota de venta "
     "convertida en boleta o la venta que anula una nota de crédito; NULL si ninguna (Bsale: 0). "
     "No sumar ambas líneas: la venta se contaría dos veces.",
     "Line of another document this line comes from (detalles_venta.id_bsale): the sales note "
     "turned into a receipt, or the sale a credit note reverses; NULL if none (Bsale: 0). Do not "
     "add both lines: the sale would count twice."},
    SYNCED,
};

/* Credit payments carry documents[] instead of document: id_documento stays NULL. */
static const struct cat_column pagos_cols[] = {
    BSALE_ID("del pago", "the payment"),
    {"id_documento", CAT_ID, "document.id", IDX,
     "Documento pagado (documentos_venta.id_bsale); NULL en pagos de crédito.",
     "Document paid (documentos_venta.id_bsale); NULL for credit payments."},
    {"id_forma_pago", CAT_ID, "payment_type.id", IDX, "Forma de pago (formas_pago.id_bsale).",
     "Payment type (formas_pago.id_bsale)."},
    {"monto", CAT_DECIMAL, "amount", 0, "Monto pagado.", "Amount paid."},
    {"fecha_registro", CAT_DATE, "recordDate", IDX, "Fecha de registro (fecha calendario UTC).",
     "Record date (UTC calendar date)."},
    {"creado_en", CAT_DATETIME, "createdAt", 0, "Instante de creación (UTC).",
     "When it was created (UTC)."},
    {"id_sucursal", CAT_ID, "office.id", IDX, "Sucursal (sucursales.id_bsale).",
     "Office (sucursales.id_bsale)."},
    ESTADO,
    {"id_usuario", CAT_ID, "user.id", IDX, "Usuario que registró el pago (usuarios.id_bsale).",
     "User who recorded the payment (usuarios.id_bsale)."},
    {"numero_operacion", CAT_TEXT, "operationNumber", 0,
     "Número de operación (transferencia, voucher de tarjeta…).",
     "Operation number (transfer, card voucher…)."},
    {"es_pago_credito", CAT_FLAG, "isCreditPayment", 0,
     FLAG_ES("abono a una deuda a crédito: sus documentos están en pagos_documentos"),
     FLAG_EN("settles an outstanding credit: its documents are in pagos_documentos")},
    {"fecha_contable", CAT_DATE, "accountingDate", 0,
     "Fecha contable (fecha calendario UTC); NULL si Bsale no la da.",
     "Accounting date (UTC calendar date); NULL when Bsale gives none."},
    SYNCED,
};

/* A credit payment's documents[] (bare array in the payment record): what it paid of each. */
static const struct cat_column pagos_documentos_cols[] = {
    {"id_pago", CAT_ID, NULL, CAT_PARENT | KEY, "Pago de crédito (pagos.id_bsale).",
     "Credit payment (pagos.id_bsale)."},
    {"id_documento", CAT_ID, "id", KEY | IDX, "Documento abonado (documentos_venta.id_bsale).",
     "Document settled (documentos_venta.id_bsale)."},
    {"monto", CAT_DECIMAL, "amount", 0, "Monto del pago aplicado a este documento.",
     "Amount of the payment applied to this document."},
    SYNCED,
};

/* /documents/{id}/payments.json: one item per payment type, its id is the type's. */
static const struct cat_column pagos_por_tipo_documento_cols[] = {
    {"id_documento", CAT_ID, NULL, CAT_PARENT | KEY, "Documento (documentos_venta.id_bsale).",
     "Document (documentos_venta.id_bsale)."},
    {"id_forma_pago", CAT_ID, "id", KEY | IDX, "Forma de pago (formas_pago.id_bsale).",
     "Payment type (formas_pago.id_bsale)."},
    {"monto", CAT_DECIMAL, "amount", 0,
     "Total pagado del documento con esa forma de pago (pagos vigentes, sin abonos de crédito).",
     "The document's total paid with that payment type (active payments, credit ones excluded)."},
    SYNCED,
};

static const struct cat_column referencias_documento_cols[] = {
    BSALE_ID("de la referencia", "the reference"),
    {"id_documento", CAT_ID, NULL, CAT_PARENT | CAT_NOT_NULL | IDX,
     "Documento que hace la referencia (documentos_venta.id_bsale).",
     "Document making the reference (documentos_venta.id_bsale)."},
    {"fecha_referencia", CAT_DATE, "referenceDate", 0,
     "Fecha del documento referido (fecha calendario UTC).",
     "Date of the referenced document (UTC calendar date)."},
    {"numero", CAT_TEXT, "number", IDX, "Folio del documento referido (texto).",
     "Number (folio) of the referenced document (text)."},
    {"motivo", CAT_LONGTEXT, "reason", 0, "Motivo (\"Anula documento\", \"Corrige montos\"…).",
     "Reason (\"Anula documento\" = voids it, \"Corrige montos\" = corrects amounts…)."},
    {"codigo_dte", CAT_TEXT, "dte_code.id", 0,
     "Código SII (DTE) del documento referido (33 = factura, 39 = boleta…).",
     "Tax authority (DTE) code of the referenced document (33 = invoice, 39 = receipt…)."},
    SYNCED,
};

static const struct cat_column impuestos_cols[] = {
    BSALE_ID("del impuesto", "the tax"),
    {"nombre", CAT_TEXT, "name", 0, "Nombre (IVA…).", "Name (IVA = VAT…)."},
    {"porcentaje", CAT_DECIMAL, "percentage", 0, "Tasa en porcentaje (19 = 19 %).",
     "Rate in percent (19 = 19 %)."},
    {"codigo", CAT_TEXT, "code", 0, "Código SII del impuesto (14 = IVA).",
     "Tax authority code of the tax (14 = VAT)."},
    ESTADO,
    SYNCED,
};

static const struct cat_column impuestos_documento_cols[] = {
    BSALE_ID("del impuesto del documento", "the document's tax"),
    {"id_documento", CAT_ID, NULL, CAT_PARENT | CAT_NOT_NULL | IDX,
     "Documento (documentos_venta.id_bsale).", "Document (documentos_venta.id_bsale)."},
    {"id_impuesto", CAT_ID, "tax.id", IDX, "Impuesto (impuestos.id_bsale).",
     "Tax (impuestos.id_bsale)."},
    {"monto_total", CAT_DECIMAL, "totalAmount", 0, "Monto del impuesto en el documento.",
     "The tax's amount on the document."},
    {"monto_exento", CAT_DECIMAL, "exemptAmount", 0, "Monto exento de ese impuesto.",
     "Amount exempt from that tax."},
    SYNCED,
};

static const struct cat_column vendedores_documento_cols[] = {
    {"id_documento", CAT_ID, NULL, CAT_PARENT | KEY, "Documento (documentos_venta.id_bsale).",
     "Document (documentos_venta.id_bsale)."},
    {"id_usuario", CAT_ID, "id", KEY | IDX,
     "Vendedor del documento (usuarios.id_bsale); puede diferir de documentos_venta.id_usuario, "
     "que es quien lo emitió.",
     "The document's seller (usuarios.id_bsale); may differ from documentos_venta.id_usuario, "
     "who issued it."},
    SYNCED,
};

static const struct cat_column costos_variante_cols[] = {
    {"id_variante", CAT_ID, NULL, CAT_PARENT | KEY, "Variante (variantes.id_bsale).",
     "Variant (variantes.id_bsale)."},
    {"costo_promedio", CAT_DECIMAL, "averageCost", 0,
     "Costo promedio ponderado por unidad, neto (sin IVA); NULL: Bsale no tiene costo para ella.",
     "Weighted average cost per unit, net (before VAT); NULL: Bsale has no cost for it."},
    {"costo_total", CAT_DECIMAL, "totalCost", 0,
     "Costo total del stock de la variante; NULL: Bsale no tiene costo para ella.",
     "Total cost of the variant's stock; NULL: Bsale has no cost for it."},
    SYNCED,
};

static const struct cat_column recepciones_stock_cols[] = {
    BSALE_ID("de la recepción", "the reception"),
    {"fecha_admision", CAT_DATE, "admissionDate", IDX,
     "Fecha de ingreso del stock (fecha calendario UTC).",
     "Date stock came in (UTC calendar date)."},
    {"documento", CAT_TEXT, "document", 0, "Documento de respaldo (\"Guía\", \"Factura\"…).",
     "Supporting document (\"Guía\" = dispatch note, \"Factura\" = invoice…)."},
    {"numero_documento", CAT_TEXT, "documentNumber", 0, "Número del documento de respaldo (texto).",
     "Number of the supporting document (text)."},
    {"nota", CAT_LONGTEXT, "note", 0, "Nota.", "Note."},
    {"id_sucursal", CAT_ID, "office.id", IDX, "Sucursal que recibe (sucursales.id_bsale).",
     "Receiving office (sucursales.id_bsale)."},
    {"id_usuario", CAT_ID, "user.id", 0, "Usuario que la registró (usuarios.id_bsale).",
     "User who recorded it (usuarios.id_bsale)."},
    {"actualiza_stock", CAT_FLAG, "updateStock", 0, FLAG_ES("suma al stock"),
     FLAG_EN("adds to stock")},
    SYNCED,
};

static const struct cat_column detalles_recepcion_cols[] = {
    BSALE_ID("del detalle de la recepción", "the reception's detail"),
    {"id_recepcion", CAT_ID, NULL, CAT_PARENT | CAT_NOT_NULL | IDX,
     "Recepción (recepciones_stock.id_bsale).", "Reception (recepciones_stock.id_bsale)."},
    {"id_variante", CAT_ID, "variant.id", IDX, "Variante (variantes.id_bsale).",
     "Variant (variantes.id_bsale)."},
    {"cantidad", CAT_DECIMAL, "quantity", 0, "Unidades recibidas.", "Units received."},
    {"costo", CAT_DECIMAL, "cost", 0, "Costo unitario neto de lo recibido.",
     "Net unit cost of what was received."},
    {"stock_variante", CAT_DECIMAL, "variantStock", 0,
     "Stock de la variante en la sucursal tras la recepción.",
     "The variant's stock at the office after the reception."},
    SYNCED,
};

static const struct cat_column consumos_stock_cols[] = {
    BSALE_ID("del consumo", "the consumption"),
    {"fecha_consumo", CAT_DATE, "consumptionDate", IDX, "Fecha del consumo (fecha calendario UTC).",
     "Date of the consumption (UTC calendar date)."},
    {"nota", CAT_LONGTEXT, "note", 0, "Nota (motivo: merma, uso interno…).",
     "Note (reason: shrinkage, internal use…)."},
    {"id_tipo_consumo", CAT_ID, "consumptionTypeId", 0, "Tipo de consumo de Bsale.",
     "Bsale consumption type."},
    {"id_sucursal", CAT_ID, "office.id", IDX, "Sucursal (sucursales.id_bsale).",
     "Office (sucursales.id_bsale)."},
    {"id_usuario", CAT_ID, "user.id", 0, "Usuario que lo registró (usuarios.id_bsale).",
     "User who recorded it (usuarios.id_bsale)."},
    SYNCED,
};

static const struct cat_column detalles_consumo_cols[] = {
    BSALE_ID("del detalle del consumo", "the consumption's detail"),
    {"id_consumo", CAT_ID, NULL, CAT_PARENT | CAT_NOT_NULL | IDX,
     "Consumo (consumos_stock.id_bsale).", "Consumption (consumos_stock.id_bsale)."},
    {"id_variante", CAT_ID, "variant.id", IDX, "Variante (variantes.id_bsale).",
     "Variant (variantes.id_bsale)."},
    {"cantidad", CAT_DECIMAL, "quantity", 0, "Unidades descontadas del stock.",
     "Units taken off stock."},
    {"costo", CAT_DECIMAL, "cost", 0, "Costo unitario neto.", "Net unit cost."},
    SYNCED,
};

static const struct cat_column devoluciones_cols[] = {
    BSALE_ID("de la devolución", "the return"),
    {"codigo", CAT_TEXT, "code", 0, "Código interno.", "Internal code."},
    {"fecha_devolucion", CAT_DATE, "returnDate", IDX,
     "Fecha de la devolución (fecha calendario UTC).", "Date of the return (UTC calendar date)."},
    {"motivo", CAT_LONGTEXT, "motive", 0, "Motivo de la devolución.", "Reason for the return."},
    {"tipo", CAT_INT, "type", 0,
     "Cómo se devolvió: 0 = dinero, 1 = pago de una venta nueva, 2 = abono a crédito, 3 = otro.",
     "How it was refunded: 0 = money back, 1 = payment of a new sale, 2 = credit-line deposit, "
     "3 = other."},
    {"monto", CAT_DECIMAL, "amount", 0, "Monto devuelto (con impuestos).",
     "Amount returned (taxes included)."},
    {"id_sucursal", CAT_ID, "office.id", IDX, "Sucursal (sucursales.id_bsale).",
     "Office (sucursales.id_bsale)."},
    {"id_documento_referencia", CAT_ID, "reference_document.id", IDX,
     "Venta original (documentos_venta.id_bsale).", "Original sale (documentos_venta.id_bsale)."},
    {"id_nota_credito", CAT_ID, "credit_note.id", IDX,
     "Nota de crédito generada (documentos_venta.id_bsale).",
     "Credit note it generated (documentos_venta.id_bsale)."},
    SYNCED,
};

static const struct cat_column detalles_devolucion_cols[] = {
    BSALE_ID("del detalle de la devolución", "the return's detail"),
    {"id_devolucion", CAT_ID, NULL, CAT_PARENT | CAT_NOT_NULL | IDX,
     "Devolución (devoluciones.id_bsale).", "Return (devoluciones.id_bsale)."},
    {"id_detalle_documento", CAT_ID, "documentDetailId", IDX,
     "Línea de la venta devuelta (detalles_venta.id_bsale): da la variante.",
     "Sale line returned (detalles_venta.id_bsale): gives the variant."},
    {"cantidad", CAT_DECIMAL, "quantity", 0, "Unidades devueltas.", "Units returned."},
    {"cantidad_dev_stock", CAT_DECIMAL, "quantityDevStock", 0, "Unidades que volvieron al stock.",
     "Units put back into stock."},
    {"costo_variante", CAT_DECIMAL, "variantCost", 0, "Costo unitario de la variante.",
     "Unit cost of the variant."},
    SYNCED,
};

/* Derived: the store copies the stock rows a run read, under the store's date. */
static const struct cat_column stock_historial_cols[] = {
    {"fecha", CAT_DATE, NULL, KEY, "Fecha de la tienda (ETL_TIMEZONE) en que se leyó el stock.",
     "Store date (ETL_TIMEZONE) the stock was read on."},
    {"id_variante", CAT_ID, NULL, KEY, "Variante (variantes.id_bsale).",
     "Variant (variantes.id_bsale)."},
    {"id_sucursal", CAT_ID, NULL, KEY | IDX, "Sucursal (sucursales.id_bsale).",
     "Office (sucursales.id_bsale)."},
    {"cantidad", CAT_DECIMAL, NULL, 0, "Unidades ese día.", "Units that day."},
    {"cantidad_reservada", CAT_DECIMAL, NULL, 0, "Unidades reservadas.", "Units reserved."},
    {"cantidad_disponible", CAT_DECIMAL, NULL, 0, "Unidades disponibles.", "Units available."},
    SYNCED,
};

/* Derived: a price's row is closed and a new one opened only when the price changes. */
static const struct cat_column precios_historial_cols[] = {
    {"id_lista_precio", CAT_ID, NULL, KEY, "Lista de precios (listas_precio.id_bsale).",
     "Price list (listas_precio.id_bsale)."},
    {"id_variante", CAT_ID, NULL, KEY, "Variante (variantes.id_bsale).",
     "Variant (variantes.id_bsale)."},
    {"valido_desde", CAT_DATETIME, NULL, KEY,
     "Desde cuándo (UTC) rige el precio: la ejecución que lo vio primero.",
     "Since when (UTC) the price holds: the run that first saw it."},
    {"valido_hasta", CAT_DATETIME, NULL, IDX,
     "Hasta cuándo (UTC) rigió; NULL mientras sea el vigente.",
     "Until when (UTC) it held; NULL while it is current."},
    {"valor_neto", CAT_DECIMAL, NULL, 0, "Precio neto, sin impuestos.", "Net price, before taxes."},
    {"valor_con_impuestos", CAT_DECIMAL, NULL, 0, "Precio con impuestos.", "Price with taxes."},
    SYNCED,
};

static const struct cat_table t_sucursales =
    MASTER_TABLE("sucursales", sucursales_cols, "offices", CAT_ROLE_OFFICES, "/offices.json",
                 "Sucursales (tiendas, bodegas y tiendas virtuales).",
                 "Offices (stores, warehouses and online stores).");
static const struct cat_table t_tipos_documento =
    MASTER_TABLE("tipos_documento", tipos_documento_cols, "document_types", CAT_ROLE_DOCUMENT_TYPES,
                 "/document_types.json", "Tipos de documento de venta.", "Sales document types.");
static const struct cat_table t_formas_pago =
    MASTER_TABLE("formas_pago", formas_pago_cols, "payment_types", CAT_ROLE_PAYMENT_TYPES,
                 "/payment_types.json", "Formas de pago.", "Payment types.");
static const struct cat_table t_usuarios =
    MASTER_TABLE("usuarios", usuarios_cols, "users", CAT_ROLE_USERS, "/users.json",
                 "Usuarios de Bsale (vendedores).", "Bsale users (sellers).");
static const struct cat_table t_tipos_producto = MASTER_TABLE(
    "tipos_producto", tipos_producto_cols, "product_types", CAT_ROLE_PRODUCT_TYPES,
    "/product_types.json", "Tipos de producto (categorías).", "Product types (categories).");
static const struct cat_table t_productos =
    MASTER_TABLE("productos", productos_cols, "products", CAT_ROLE_PRODUCTS, "/products.json",
                 "Productos y servicios.", "Products and services.");
static const struct cat_table t_variantes =
    MASTER_TABLE("variantes", variantes_cols, "variants", CAT_ROLE_VARIANTS, "/variants.json",
                 "Variantes de producto: lo que se vende y tiene stock.",
                 "Product variants: what is sold and stocked.");
static const struct cat_table t_clientes =
    MASTER_TABLE("clientes", clientes_cols, "clients", CAT_ROLE_CLIENTS, "/clients.json",
                 "Clientes.", "Clients.");
static const struct cat_table t_listas_precio =
    MASTER_TABLE("listas_precio", listas_precio_cols, "price_lists", CAT_ROLE_PRICE_LISTS,
                 "/price_lists.json", "Listas de precios.", "Price lists.");
static const struct cat_table t_precios = {
    .name = "precios",
    .cols = precios_cols,
    .ncols = ARRAY_LEN(precios_cols),
    .unique = precios_unique,
    .resource = "price_lists/details",
    .role = CAT_ROLE_PRICES,
    .source = {.fetch = CAT_FETCH_CHILD,
               .path = "/price_lists/{id}/details.json",
               .parent = CAT_ROLE_PRICE_LISTS,
               .parent_col = "id_lista_precio"},
    .prune = CAT_PRUNE_UNLISTED,
    .es = "Precio vigente de cada variante en cada lista.",
    .en = "Current price of each variant in each list.",
};
static const struct cat_table t_stock = {
    .name = "stock",
    .cols = stock_cols,
    .ncols = ARRAY_LEN(stock_cols),
    .resource = "stocks",
    .role = CAT_ROLE_STOCK,
    .source = {.fetch = CAT_FETCH_MASTER, .path = "/stocks.json"},
    .prune = CAT_PRUNE_UNLISTED,
    .es = "Stock actual por variante y sucursal.",
    .en = "Current stock per variant and office.",
};
static const struct cat_table t_documentos_venta = {
    .name = "documentos_venta",
    .cols = documentos_venta_cols,
    .ncols = ARRAY_LEN(documentos_venta_cols),
    .resource = "documents",
    .role = CAT_ROLE_DOCUMENTS,
    .source = {.fetch = CAT_FETCH_DAILY,
               .path = "/documents.json",
               .expand = "[details,payments,references,document_taxes,sellers]",
               .date_filter = "emissiondaterange",
               .date_kind = CAT_DATE_RANGE},
    .prune = CAT_PRUNE_VERIFIED,
    .es =
        "Documentos de venta de todo tipo (boletas, facturas, notas de venta, notas de "
        "crédito…). Venta neta: sumar los documentos con estado 0 (los anulados tienen estado 1), "
        "restando los de tipo es_nota_credito (sus montos son positivos). Una nota de venta "
        "convertida en boleta o factura no se suma dos veces: las líneas del documento nuevo "
        "la señalan en detalles_venta.id_detalle_relacionado.",
    .en = "Sales documents of every type (receipts, invoices, sales notes, credit notes…). Net "
          "sales: add the documents with estado 0 (voided ones have estado 1), subtracting those "
          "whose type is es_nota_credito (their amounts are positive). A sales note turned into a "
          "receipt or invoice is not added twice: the new document's lines point to it through "
          "detalles_venta.id_detalle_relacionado.",
};
static const struct cat_table t_detalles_venta = CHILD_TABLE(
    "detalles_venta", detalles_venta_cols, "documents/details", CAT_ROLE_LINES,
    "/documents/{id}/details.json", CAT_ROLE_DOCUMENTS, "id_documento", "details", false,
    "Líneas de los documentos de venta (todas, no solo las 25 incrustadas). Una línea con "
    "id_detalle_relacionado viene de otra: si ambos documentos están vigentes y el nuevo no es "
    "nota de crédito (boleta desde nota de venta), contar solo la línea nueva; la de una nota de "
    "crédito se resta.",
    "Lines of the sales documents (all of them, not only the 25 embedded). A line with "
    "id_detalle_relacionado comes from another: when both documents are active and the new one "
    "is not a credit note (a receipt from a sales note), count only the new line; a credit "
    "note's line is subtracted.");
static const struct cat_table t_pagos = {
    .name = "pagos",
    .cols = pagos_cols,
    .ncols = ARRAY_LEN(pagos_cols),
    .resource = "payments",
    .role = CAT_ROLE_PAYMENTS,
    .source = {.fetch = CAT_FETCH_JOURNAL,
               .path = "/payments.json",
               .date_filter = "recorddaterange",
               .date_kind = CAT_DATE_RANGE},
    .es = "Pagos registrados en Bsale (/payments.json), también los abonos de crédito: estos no "
          "tienen id_documento y reparten su monto en pagos_documentos. Solo los de estado 0 "
          "cuentan.",
    .en = "Payment records of Bsale (/payments.json), credit payments too: these have no "
          "id_documento and split their amount in pagos_documentos. Only those with estado 0 "
          "count.",
};
static const struct cat_table t_pagos_documentos = CHILD_TABLE(
    "pagos_documentos", pagos_documentos_cols, "payments/documents", CAT_ROLE_PAYMENT_DOCUMENTS,
    NULL, CAT_ROLE_PAYMENTS, "id_pago", "documents", false,
    "Documentos que salda cada abono de crédito, con el monto aplicado a cada uno. Lo cobrado de "
    "un documento: sus pagos (pagos.id_documento) más estas filas.",
    "Documents each credit payment settles, with the amount applied to each. What a document "
    "has been paid: its payments (pagos.id_documento) plus these rows.");
static const struct cat_table t_pagos_por_tipo_documento = CHILD_TABLE(
    "pagos_por_tipo_documento", pagos_por_tipo_documento_cols, "documents/payments",
    CAT_ROLE_DOCUMENT_PAYMENT_TOTALS, "/documents/{id}/payments.json", CAT_ROLE_DOCUMENTS,
    "id_documento", "payments", false,
    "Total pagado de cada documento por forma de pago, solo cuando Bsale lo incrusta en el "
    "documento (no son pagos: para pagos individuales use pagos).",
    "Each document's total paid per payment type, only when Bsale embeds it in the document "
    "(these are not payments: for single payments use pagos).");
static const struct cat_table t_referencias_documento = CHILD_TABLE(
    "referencias_documento", referencias_documento_cols, "documents/references",
    CAT_ROLE_REFERENCES, "/documents/{id}/references.json", CAT_ROLE_DOCUMENTS, "id_documento",
    "references", true,
    "Referencias tributarias de los documentos: qué documento anula o corrige una nota de "
    "crédito (numero, codigo_dte y motivo del documento referido).",
    "Tax references of the documents: which document a credit note voids or corrects (number, "
    "DTE code and reason of the referenced document).");

static const struct cat_table t_impuestos =
    MASTER_TABLE("impuestos", impuestos_cols, "taxes", CAT_ROLE_TAXES, "/taxes.json",
                 "Impuestos configurados en Bsale (IVA y otros).",
                 "Taxes configured in Bsale (VAT and others).");
static const struct cat_table t_impuestos_documento = CHILD_TABLE(
    "impuestos_documento", impuestos_documento_cols, "documents/document_taxes",
    CAT_ROLE_DOCUMENT_TAXES, "/documents/{id}/document_taxes.json", CAT_ROLE_DOCUMENTS,
    "id_documento", "document_taxes", true, "Impuestos de cada documento (monto por impuesto).",
    "Taxes of each document (amount per tax).");
static const struct cat_table t_vendedores_documento =
    CHILD_TABLE("vendedores_documento", vendedores_documento_cols, "documents/sellers",
                CAT_ROLE_DOCUMENT_SELLERS, "/documents/{id}/sellers.json", CAT_ROLE_DOCUMENTS,
                "id_documento", "sellers", true,
                "Vendedores de cada documento (para comisiones): pueden no ser quien lo emitió.",
                "Sellers of each document (for commissions): they may not be who issued it.");
static const struct cat_table t_costos_variante = {
    .name = "costos_variante",
    .cols = costos_variante_cols,
    .ncols = ARRAY_LEN(costos_variante_cols),
    .resource = "variants/costs",
    .role = CAT_ROLE_VARIANT_COSTS,
    .source = {.fetch = CAT_FETCH_OBJECT,
               .path = "/variants/{id}/costs.json",
               .parent = CAT_ROLE_VARIANTS,
               .parent_col = "id_variante"},
    .es = "Costo de cada variante con control de stock. Una petición por variante: se leen las "
          "recibidas o cambiadas y, por turnos, todas en ETL_COST_REFRESH_DAYS días.",
    .en = "Cost of each stock-controlled variant. One request per variant: those received or "
          "changed are read, and in turn all of them every ETL_COST_REFRESH_DAYS days.",
};
#define DATED_TABLE(n, c, res, r, p, filter, d_es, d_en)                                           \
    {                                                                                              \
        .name = (n), .cols = (c), .ncols = ARRAY_LEN(c), .resource = (res), .role = (r),           \
        .source = {.fetch = CAT_FETCH_DATED,                                                       \
                   .path = (p),                                                                    \
                   .expand = "[details]",                                                          \
                   .date_filter = (filter),                                                        \
                   .date_kind = CAT_DATE_RANGE},                                                   \
        .prune = CAT_PRUNE_UNLISTED, .es = (d_es), .en = (d_en)                                    \
    }
static const struct cat_table t_recepciones_stock =
    DATED_TABLE("recepciones_stock", recepciones_stock_cols, "stocks/receptions",
                CAT_ROLE_RECEPTIONS, "/stocks/receptions.json", "admissiondaterange",
                "Recepciones (ingresos) de stock, con su costo en detalles_recepcion.",
                "Stock receptions (stock coming in), with their cost in detalles_recepcion.");
static const struct cat_table t_detalles_recepcion =
    CHILD_TABLE("detalles_recepcion", detalles_recepcion_cols, "stocks/receptions/details",
                CAT_ROLE_RECEPTION_DETAILS, "/stocks/receptions/{id}/details.json",
                CAT_ROLE_RECEPTIONS, "id_recepcion", "details", true,
                "Líneas de cada recepción de stock.", "Lines of each stock reception.");
static const struct cat_table t_consumos_stock =
    DATED_TABLE("consumos_stock", consumos_stock_cols, "stocks/consumptions", CAT_ROLE_CONSUMPTIONS,
                "/stocks/consumptions.json", "consumptiondaterange",
                "Consumos (salidas de stock que no son ventas: mermas, uso interno).",
                "Consumptions (stock going out that is not a sale: shrinkage, internal use).");
static const struct cat_table t_detalles_consumo =
    CHILD_TABLE("detalles_consumo", detalles_consumo_cols, "stocks/consumptions/details",
                CAT_ROLE_CONSUMPTION_DETAILS, "/stocks/consumptions/{id}/details.json",
                CAT_ROLE_CONSUMPTIONS, "id_consumo", "details", true,
                "Líneas de cada consumo de stock.", "Lines of each stock consumption.");
static const struct cat_table t_devoluciones = DATED_TABLE(
    "devoluciones", devoluciones_cols, "returns", CAT_ROLE_RETURNS, "/returns.json",
    "returndaterange",
    "Devoluciones: unen la venta original con la nota de crédito que la devuelve, con su motivo.",
    "Returns: they tie the original sale to the credit note that returns it, with the reason.");
static const struct cat_table t_detalles_devolucion = CHILD_TABLE(
    "detalles_devolucion", detalles_devolucion_cols, "returns/details", CAT_ROLE_RETURN_DETAILS,
    "/returns/{id}/details.json", CAT_ROLE_RETURNS, "id_devolucion", "details", true,
    "Líneas devueltas de cada devolución (la variante sale de la línea de venta).",
    "Lines returned by each return (the variant comes from the sale line).");
static const struct cat_table t_stock_historial = {
    .name = "stock_historial",
    .cols = stock_historial_cols,
    .ncols = ARRAY_LEN(stock_historial_cols),
    .resource = "stocks",
    .role = CAT_ROLE_STOCK_HISTORY,
    .source = {.fetch = CAT_FETCH_DERIVED, .parent = CAT_ROLE_STOCK},
    .es = "Stock de cada día en que una ejecución leyó el stock (una foto por fecha de la tienda): "
          "quiebres, rotación, stock a fin de mes.",
    .en = "Stock on each day a run read it (one snapshot per store date): stock-outs, turnover, "
          "month-end stock.",
};
static const struct cat_table t_precios_historial = {
    .name = "precios_historial",
    .cols = precios_historial_cols,
    .ncols = ARRAY_LEN(precios_historial_cols),
    .resource = "price_lists/details",
    .role = CAT_ROLE_PRICE_HISTORY,
    .source = {.fetch = CAT_FETCH_DERIVED, .parent = CAT_ROLE_PRICES},
    .es = "Todos los precios que tuvo cada variante en cada lista: una fila nueva solo cuando el "
          "precio cambia; la vigente tiene valido_hasta NULL.",
    .en = "Every price each variant had in each list: a new row only when the price changes; the "
          "current one has valido_hasta NULL.",
};

/* ---- the ETL's own bookkeeping: not synced, written by the store ---- */

static const struct cat_column etl_esquema_cols[] = {
    {"version", CAT_INT, NULL, KEY, "Versión del esquema aplicada.", "Schema version applied."},
    {"aplicado_en", CAT_DATETIME, NULL, CAT_NOT_NULL, "Cuándo se aplicó (UTC).",
     "When it was applied (UTC)."},
};

static const struct cat_column etl_ejecuciones_cols[] = {
    {"id", CAT_SERIAL, NULL, KEY, "Id de la ejecución.", "Run id."},
    {"tipo", CAT_TEXT, NULL, CAT_NOT_NULL, "Tipo: full (completa) o daily (por fechas).",
     "Kind: full or daily (by dates)."},
    {"origen", CAT_TEXT, NULL, CAT_NOT_NULL, "Origen: http o cli.", "Origin: http or cli."},
    {"estado", CAT_TEXT, NULL, CAT_NOT_NULL | IDX,
     "Estado: running (en curso), succeeded (exitosa) o failed (fallida).",
     "Status: running, succeeded or failed."},
    {"inicio", CAT_DATETIME, NULL, CAT_NOT_NULL, "Inicio (UTC).", "Start (UTC)."},
    {"fin", CAT_DATETIME, NULL, 0, "Fin (UTC); NULL mientras corre.",
     "End (UTC); NULL while running."},
    {"fecha_desde", CAT_DATE, NULL, 0, "Primera fecha de negocio cubierta.",
     "First business date covered."},
    {"fecha_hasta", CAT_DATE, NULL, 0, "Última fecha de negocio cubierta.",
     "Last business date covered."},
    {"registros", CAT_INT, NULL, CAT_NOT_NULL | CAT_ZERO, "Filas escritas.", "Rows written."},
    {"solicitudes", CAT_INT, NULL, CAT_NOT_NULL | CAT_ZERO, "Solicitudes HTTP hechas a Bsale.",
     "HTTP requests made to Bsale."},
    {"reintentos", CAT_INT, NULL, CAT_NOT_NULL | CAT_ZERO, "Reintentos.", "Retries."},
    {"error", CAT_LONGTEXT, NULL, 0, "Motivo del fallo; NULL si tuvo éxito; nunca un secreto.",
     "Why it failed; NULL on success; never a secret."},
    {"detalle", CAT_DOCUMENT, NULL, 0, "Resumen JSON de la ejecución (filas por tabla…).",
     "JSON summary of the run (rows per table…)."},
    {"clave_idempotencia", CAT_TEXT, NULL, 0,
     "Idempotency-Key del disparo HTTP que la creó; única; NULL si no hubo.",
     "Idempotency-Key of the HTTP trigger that created it; unique; NULL when none."},
    {"progreso", CAT_DOCUMENT, NULL, 0,
     "Avance JSON mientras corre (páginas, filas, solicitudes, ETA); NULL al terminar.",
     "JSON progress while running (pages, rows, requests, ETA); NULL once finished."},
    {"completado_hasta", CAT_DATE, NULL, 0,
     "Último día de documentos ya confirmado (por ventanas); una ejecución interrumpida se "
     "reanuda desde el día siguiente.",
     "Last document day committed (by windows); an interrupted run resumes from the next day."},
    {"reanuda", CAT_ID, NULL, 0, "Ejecución que esta reanuda (etl_ejecuciones.id); NULL si no.",
     "Run this one resumes (etl_ejecuciones.id); NULL when none."},
};
static const char *const etl_ejecuciones_unique[] = {"clave_idempotencia", NULL};

static const struct cat_column etl_incidencias_cols[] = {
    {"id", CAT_SERIAL, NULL, KEY, "Id de la incidencia.", "Incident id."},
    {"id_ejecucion", CAT_ID, NULL, CAT_NOT_NULL | IDX, "Ejecución (etl_ejecuciones.id).",
     "Run (etl_ejecuciones.id)."},
    {"recurso", CAT_TEXT, NULL, CAT_NOT_NULL, "Ruta Bsale del registro (/documents/12.json).",
     "The record's Bsale path (/documents/12.json)."},
    {"id_recurso", CAT_ID, NULL, 0, "Id Bsale del registro; NULL si era ilegible.",
     "The record's Bsale id; NULL when unreadable."},
    {"problema", CAT_LONGTEXT, NULL, CAT_NOT_NULL, "Qué no cuadró; nunca un secreto.",
     "What did not add up; never a secret."},
    {"creado_en", CAT_DATETIME, NULL, CAT_NOT_NULL, "Cuándo se registró (UTC).",
     "When it was recorded (UTC)."},
    {"resuelto_en", CAT_DATETIME, NULL, IDX,
     "Cuándo una ejecución posterior lo escribió bien (UTC); NULL mientras siga abierta.",
     "When a later run wrote it correctly (UTC); NULL while open."},
};

static const struct cat_column dim_fecha_cols[] = {
    {"fecha", CAT_DATE, NULL, KEY, "Fecha del calendario.", "Calendar date."},
    {"anio", CAT_INT, NULL, CAT_NOT_NULL, "Año.", "Year."},
    {"mes", CAT_INT, NULL, CAT_NOT_NULL, "Mes (1-12).", "Month (1-12)."},
    {"dia", CAT_INT, NULL, CAT_NOT_NULL, "Día del mes.", "Day of the month."},
    {"dia_semana", CAT_INT, NULL, CAT_NOT_NULL, "Día de la semana: 1 = lunes ... 7 = domingo.",
     "Day of the week: 1 = Monday ... 7 = Sunday."},
    {"semana_iso", CAT_INT, NULL, CAT_NOT_NULL, "Semana ISO 8601 (1-53).", "ISO 8601 week (1-53)."},
    {"trimestre", CAT_INT, NULL, CAT_NOT_NULL, "Trimestre (1-4).", "Quarter (1-4)."},
    {"nombre_mes", CAT_TEXT, NULL, CAT_NOT_NULL, "Nombre del mes en español (enero ...).",
     "Month name in Spanish (enero ...)."},
    {"nombre_dia", CAT_TEXT, NULL, CAT_NOT_NULL, "Nombre del día en español (lunes ...).",
     "Day name in Spanish (lunes ...)."},
    {"es_fin_de_semana", CAT_FLAG, NULL, CAT_NOT_NULL, "1 si es sábado o domingo.",
     "1 on Saturday or Sunday."},
};

static const struct cat_table t_etl_esquema =
    TABLE("etl_esquema", etl_esquema_cols, NULL, CAT_ROLE_SCHEMA_VERSION,
          "Versiones del esquema aplicadas por patitas-etl migrate.",
          "Schema versions applied by patitas-etl migrate.");
static const struct cat_table t_etl_ejecuciones = {.name = "etl_ejecuciones",
                                                   .cols = etl_ejecuciones_cols,
                                                   .ncols = ARRAY_LEN(etl_ejecuciones_cols),
                                                   .unique = etl_ejecuciones_unique,
                                                   .role = CAT_ROLE_RUNS,
                                                   .es = "Una fila por ejecución del ETL.",
                                                   .en = "One row per ETL run."};
static const struct cat_table t_etl_incidencias =
    TABLE("etl_incidencias", etl_incidencias_cols, NULL, CAT_ROLE_INCIDENTS,
          "Registros que una ejecución no pudo copiar o verificar.",
          "Records a run could not copy or verify.");
static const struct cat_table t_dim_fecha =
    TABLE("dim_fecha", dim_fecha_cols, NULL, CAT_ROLE_CALENDAR,
          "Calendario 2015-2035 para reportes; lo llena patitas-etl migrate.",
          "Calendar 2015-2035 for reports; filled by patitas-etl migrate.");

static const struct cat_table *const own_tables[] = {
    &t_etl_esquema,
    &t_etl_ejecuciones,
    &t_etl_incidencias,
    &t_dim_fecha,
};

static const struct cat_table *const all_tables[] = {
    &t_sucursales,
    &t_tipos_documento,
    &t_formas_pago,
    &t_usuarios,
    &t_tipos_producto,
    &t_productos,
    &t_variantes,
    &t_clientes,
    &t_listas_precio,
    &t_precios,
    &t_stock,
    &t_documentos_venta,
    &t_detalles_venta,
    &t_pagos,
    &t_pagos_documentos,
    &t_pagos_por_tipo_documento,
    &t_referencias_documento,
    &t_impuestos,
    &t_impuestos_documento,
    &t_vendedores_documento,
    &t_costos_variante,
    &t_recepciones_stock,
    &t_detalles_recepcion,
    &t_consumos_stock,
    &t_detalles_consumo,
    &t_devoluciones,
    &t_detalles_devolucion,
    &t_stock_historial,
    &t_precios_historial,
};

const struct cat_table *const *catalog_tables(size_t *n)
{
    *n = ARRAY_LEN(all_tables);
    return all_tables;
}

const struct cat_table *catalog_table(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(all_tables); i++)
        if (strcmp(all_tables[i]->name, name) == 0)
            return all_tables[i];
    return NULL;
}

const struct cat_table *catalog_by_role(enum cat_role role)
{
    for (size_t i = 0; i < ARRAY_LEN(all_tables); i++)
        if (all_tables[i]->role == role)
            return all_tables[i];
    for (size_t i = 0; i < ARRAY_LEN(own_tables); i++)
        if (own_tables[i]->role == role)
            return own_tables[i];
    return NULL;
}

int catalog_role_index(enum cat_role role)
{
    for (size_t i = 0; i < ARRAY_LEN(all_tables); i++)
        if (all_tables[i]->role == role)
            return (int)i;
    return -1;
}

const struct cat_table *const *catalog_own_tables(size_t *n)
{
    *n = ARRAY_LEN(own_tables);
    return own_tables;
}

bool catalog_list_path(const struct cat_table *t, int64_t parent_id, char *dst, size_t n)
{
    const char *path = t->source.path ? t->source.path : "";
    const char *hole = strstr(path, "{id}");
    int k = hole ? snprintf(dst, n, "%.*s%lld%s", (int)(hole - path), path, (long long)parent_id,
                            hole + 4)
                 : snprintf(dst, n, "%s", path);
    return k >= 0 && (size_t)k < n;
}

bool catalog_record_path(const struct cat_table *t, int64_t id, char *dst, size_t n)
{
    const char *path = t->source.path ? t->source.path : "";
    size_t len = strlen(path);
    if (len < 5 || strcmp(path + len - 5, ".json") != 0)
        return false;
    int k = snprintf(dst, n, "%.*s/%lld.json", (int)(len - 5), path, (long long)id);
    return k >= 0 && (size_t)k < n;
}

int catalog_column_index(const struct cat_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* ---- row storage: cells plus an arena of the strings they point to ---- */

#define ARENA_CHUNK 16384

struct cat_arena {
    struct cat_arena *next;
    size_t used, size;
    char data[];
};

void cat_rows_init(struct cat_rows *r, const struct cat_table *t)
{
    memset(r, 0, sizeof(*r));
    r->table = t;
}

void cat_rows_release(struct cat_rows *r)
{
    if (!r)
        return;
    struct cat_arena *a = r->arena;
    while (a) {
        struct cat_arena *next = a->next;
        free(a);
        a = next;
    }
    free(r->v);
    cat_rows_init(r, r->table);
}

/* Copies s[0..n) (NUL-terminated) into r's arena; the copy lives as long as r. */
static const char *arena_copy(struct cat_rows *r, const char *s, size_t n)
{
    struct cat_arena *a = r->arena;
    if (!a || a->size - a->used < n + 1) {
        size_t size = n + 1 > ARENA_CHUNK ? n + 1 : ARENA_CHUNK;
        a = xmalloc(sizeof(*a) + size);
        a->used = 0;
        a->size = size;
        a->next = r->arena;
        r->arena = a;
    }
    char *p = a->data + a->used;
    memcpy(p, s, n);
    p[n] = '\0';
    a->used += n + 1;
    return p;
}

static struct cat_value *rows_append(struct cat_rows *r)
{
    size_t nc = r->table->ncols;
    if (r->n == r->alloc) {
        r->alloc = r->alloc ? r->alloc * 2 : 64;
        r->v = xrealloc(r->v, r->alloc * nc * sizeof(*r->v));
    }
    struct cat_value *row = &r->v[r->n * nc];
    memset(row, 0, nc * sizeof(*row));
    return row;
}

/* ---- conversions ---- */

/*
 * Precision rule for DECIMAL(18,4): values are rounded to 4 decimals and
 * written as canonical text without trailing zeros (12990.0 -> "12990").
 * Numeric strings with up to 4 decimals are copied digit by digit, exactly.
 * JSON numbers arrive as doubles: "%.4f" of the nearest double gives back the
 * written value whenever it has at most 15 significant digits (any CLP amount
 * up to 10^11 with 4 decimals). At most 14 integer digits; larger -> NULL.
 */
#define DEC_MAX_ABS 1e14

/* Removes trailing fraction zeros (and a bare '.') and turns "-0" into "0". */
static void decimal_trim(char *s)
{
    char *dot = strchr(s, '.');
    if (dot) {
        char *end = s + strlen(s);
        while (end > dot + 1 && end[-1] == '0')
            *--end = '\0';
        if (end == dot + 1)
            *dot = '\0';
    }
    if (strcmp(s, "-0") == 0)
        memmove(s, s + 1, 2);
}

static bool decimal_from_double(double d, char *dst, size_t n)
{
    if (!isfinite(d) || fabs(d) >= DEC_MAX_ABS)
        return false;
    int k = snprintf(dst, n, "%.4f", d);
    if (k < 0 || (size_t)k >= n)
        return false;
    decimal_trim(dst);
    return true;
}

/*
 * Plain decimal text ("68643.0", "-12.5") is normalized digit by digit so no
 * binary rounding touches it; more than 4 decimals or exponents go through
 * double rounding like JSON numbers.
 */
static bool decimal_from_string(const char *s, char *dst, size_t n)
{
    const char *p = s + (*s == '-' || *s == '+');
    size_t int_digits = strspn(p, "0123456789");
    const char *frac = p[int_digits] == '.' ? p + int_digits + 1 : p + int_digits;
    size_t frac_digits = strspn(frac, "0123456789");
    bool plain = frac[frac_digits] == '\0' && int_digits + frac_digits > 0 && frac_digits <= 4;
    if (!plain) {
        if (!*s || s[strspn(s, "0123456789+-.eE")] != '\0')
            return false;
        char *end;
        double d = strtod(s, &end);
        if (end == s || *end)
            return false;
        return decimal_from_double(d, dst, n);
    }
    while (int_digits > 0 && *p == '0')
        p++, int_digits--;
    if (int_digits > 14)
        return false;
    int k = snprintf(dst, n, "%s%.*s%s%s%.*s", *s == '-' ? "-" : "", (int)int_digits, p,
                     int_digits ? "" : "0", frac_digits ? "." : "", (int)frac_digits, frac);
    if (k < 0 || (size_t)k >= n)
        return false;
    decimal_trim(dst);
    return true;
}

bool cat_convert_decimal(json_t *v, char *dst, size_t n)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i >= (json_int_t)DEC_MAX_ABS || i <= -(json_int_t)DEC_MAX_ABS)
            return false;
        int k = snprintf(dst, n, "%" JSON_INTEGER_FORMAT, i);
        return k > 0 && (size_t)k < n;
    }
    if (json_is_real(v))
        return decimal_from_double(json_real_value(v), dst, n);
    if (json_is_string(v))
        return decimal_from_string(json_string_value(v), dst, n);
    return false;
}

/* Unix seconds from a number or numeric string; "" and null fail. */
static bool unix_time(json_t *v, struct tm *tm)
{
    int64_t secs;
    if (!json_util_int64(v, &secs))
        return false;
    /* Years 1..9999 only: what DATE/DATETIME accept on every backend. */
    if (secs < -62135596800LL || secs > 253402300799LL)
        return false;
    time_t t = (time_t)secs;
    return gmtime_r(&t, tm) != NULL;
}

bool cat_convert_date(json_t *v, char *dst, size_t n)
{
    struct tm tm;
    if (!unix_time(v, &tm))
        return false;
    return strftime(dst, n, "%Y-%m-%d", &tm) > 0;
}

bool cat_convert_datetime(json_t *v, char *dst, size_t n)
{
    struct tm tm;
    if (!unix_time(v, &tm))
        return false;
    return strftime(dst, n, "%Y-%m-%d %H:%M:%S", &tm) > 0;
}

static bool convert_flag(json_t *v, int64_t *out)
{
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return true;
    }
    int64_t i;
    if (!json_util_int64(v, &i) || (i != 0 && i != 1))
        return false;
    *out = i;
    return true;
}

/* VARCHAR(255) counts characters: cut at 255 code points, never inside one. */
#define TEXT_MAX_CHARS 255
static size_t utf8_prefix(const char *s, size_t len, size_t max_chars)
{
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (chars == max_chars)
                return i;
            chars++;
        }
    }
    return len;
}

/* MySQL TEXT holds 65535 bytes: longer values are cut (at a character boundary) everywhere. */
#define LONGTEXT_MAX_BYTES 65535

static void set_text(struct cat_rows *r, struct cat_value *cell, const char *s, size_t len)
{
    cell->kind = CAT_V_TEXT;
    cell->s = arena_copy(r, s, len);
    cell->len = len;
}

/* ---- values that do not fit: described, never silently changed ---- */

/* One item being mapped: where its problems go. */
struct map_ctx {
    const struct cat_table *t;
    const struct cat_report *rep; /* NULL: problems are not reported */
    int64_t record_id;            /* -1 when unreadable */
};

static const char *json_type_name(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "real";
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return "null";
    }
    return "value";
}

/* Short strings are quoted (control bytes as '?'); long ones only measured: never a huge value. */
#define SHOWN_MAX 40

static void describe(json_t *v, char *dst, size_t n)
{
    if (json_is_string(v)) {
        size_t len = json_string_length(v);
        const char *s = json_string_value(v);
        if (len > SHOWN_MAX) {
            snprintf(dst, n, "string of %zu bytes", len);
            return;
        }
        char shown[SHOWN_MAX + 1];
        for (size_t i = 0; i < len; i++)
            shown[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '"' ? '?' : s[i];
        shown[len] = '\0';
        snprintf(dst, n, "string \"%s\"", shown);
    } else if (json_is_integer(v)) {
        snprintf(dst, n, "integer %" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(dst, n, "real %.10g", json_real_value(v));
    } else {
        snprintf(dst, n, "%s", json_type_name(v));
    }
}

/* Reports "<table>.<column> (<json>): <value> <what>". */
static void report(const struct map_ctx *m, const struct cat_column *c, json_t *v, const char *what)
{
    if (!m->rep || !m->rep->fn)
        return;
    char value[64], problem[320];
    describe(v, value, sizeof(value));
    snprintf(problem, sizeof(problem), "%s.%s (%s): %s %s", m->t->name, c->name,
             c->json ? c->json : "-", value, what);
    m->rep->fn(m->rep->ctx, m->record_id, problem);
}

/*
 * A date written as text ("2024-02-15", "2024-02-15 10:00:00", "...T10:00:00Z")
 * instead of Unix seconds: kept (the document would otherwise drop out of every
 * date filter) and reported. out gets the column's canonical form.
 */
static bool date_from_text(const char *s, bool with_time, char *out, size_t n)
{
    int y, mo, d, h = 0, mi = 0, se = 0, used = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || used != 10)
        return false;
    const char *rest = s + 10;
    if (*rest == ' ' || *rest == 'T') {
        int k = 0;
        if (sscanf(rest + 1, "%2d:%2d:%2d%n", &h, &mi, &se, &k) != 3 || k != 8)
            return false;
        rest += 9;
        if (*rest == 'Z')
            rest++;
    }
    if (*rest || y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59)
        return false;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
        return false;
    int k = with_time ? snprintf(out, n, "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, se)
                      : snprintf(out, n, "%04d-%02d-%02d", y, mo, d);
    return k > 0 && (size_t)k < n;
}

static bool is_empty_string(json_t *v)
{
    return json_is_string(v) && json_string_length(v) == 0;
}

/* DATE / DATETIME from Unix seconds; a date string is kept and reported. */
static void convert_date_cell(struct cat_rows *r, const struct map_ctx *m,
                              const struct cat_column *c, json_t *v, struct cat_value *cell)
{
    char tmp[32];
    bool with_time = c->type == CAT_DATETIME;
    bool ok = with_time ? cat_convert_datetime(v, tmp, sizeof(tmp))
                        : cat_convert_date(v, tmp, sizeof(tmp));
    if (ok) {
        set_text(r, cell, tmp, strlen(tmp));
    } else if (json_is_string(v) &&
               date_from_text(json_string_value(v), with_time, tmp, sizeof(tmp))) {
        set_text(r, cell, tmp, strlen(tmp));
        report(m, c, v, "is a date string, not Unix seconds; stored as the date it names");
    } else {
        report(m, c, v, "is not Unix seconds within years 1..9999; stored NULL");
    }
}

/* Replaces each NUL by U+FFFD, so no backend cuts the text there. Owned. */
static char *replace_nul(const char *s, size_t len, size_t *out_len)
{
    size_t nul = 0;
    for (size_t i = 0; i < len; i++)
        nul += s[i] == '\0';
    char *out = xmalloc(len + 2 * nul + 1);
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\0') {
            memcpy(out + k, "\xef\xbf\xbd", 3);
            k += 3;
        } else {
            out[k++] = s[i];
        }
    }
    out[k] = '\0';
    *out_len = k;
    return out;
}

/* The value as text (owned), and what a non-text JSON type becomes: NULL for null. */
static char *text_of(json_t *v, size_t *len, bool *coerced)
{
    char tmp[64];
    *coerced = false;
    if (json_is_string(v))
        return replace_nul(json_string_value(v), json_string_length(v), len);
    if (json_is_integer(v)) {
        snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        /* Numeric codes (barCode 7801234000017.0) read as written; beyond that, all digits. */
        if (!decimal_from_double(json_real_value(v), tmp, sizeof(tmp)))
            snprintf(tmp, sizeof(tmp), "%.17g", json_real_value(v));
    } else {
        /* true, false, objects and arrays: their JSON text, which the column can hold. */
        *coerced = true;
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s)
            return NULL;
        *len = strlen(s);
        char *copy = xstrndup(s, *len);
        free(s);
        return copy;
    }
    *len = strlen(tmp);
    return xstrndup(tmp, *len);
}

/* Text columns take strings as they are and render numbers (codeSii 33, numeric barCode). */
static void convert_text(struct cat_rows *r, const struct map_ctx *m, const struct cat_column *c,
                         json_t *v, struct cat_value *cell)
{
    size_t len = 0;
    bool coerced;
    char *s = text_of(v, &len, &coerced);
    if (!s) {
        report(m, c, v, "cannot be rendered as text; stored NULL");
        return;
    }
    if (coerced)
        report(m, c, v, "is not text; stored as its JSON text");
    if (json_is_string(v) && memchr(json_string_value(v), '\0', json_string_length(v)))
        report(m, c, v, "holds NUL characters; stored with U+FFFD in their place");
    size_t keep = c->type == CAT_TEXT ? utf8_prefix(s, len, TEXT_MAX_CHARS)
                                      : utf8_cut(s, len, LONGTEXT_MAX_BYTES);
    if (keep < len)
        report(m, c, v,
               c->type == CAT_TEXT ? "is longer than the column's 255 characters; stored its "
                                     "first 255"
                                   : "is longer than the column's 65535 bytes; stored its first "
                                     "65535 at a character boundary");
    set_text(r, cell, s, keep);
    free(s);
}

/* Fills cell from v (present, not null); a value that does not fit is reported. */
static void convert_cell(struct cat_rows *r, const struct map_ctx *m, const struct cat_column *c,
                         json_t *v, struct cat_value *cell)
{
    char tmp[64];
    switch (c->type) {
    case CAT_ID:
    case CAT_INT:
        if (json_util_int64(v, &cell->i))
            cell->kind = cell->i == 0 && (c->flags & CAT_ZERO_NULL) ? CAT_V_NULL : CAT_V_INT;
        else if (!is_empty_string(v))
            report(m, c, v, "is not an integer within 64 bits; stored NULL");
        return;
    case CAT_FLAG:
        if (convert_flag(v, &cell->i))
            cell->kind = CAT_V_INT;
        else if (!is_empty_string(v))
            report(m, c, v, "is not a 0/1 flag; stored NULL");
        return;
    case CAT_DECIMAL:
        if (cat_convert_decimal(v, tmp, sizeof(tmp)))
            set_text(r, cell, tmp, strlen(tmp));
        else if (!is_empty_string(v))
            report(m, c, v, "is not a number within DECIMAL(18,4); stored NULL");
        return;
    case CAT_DATE:
    case CAT_DATETIME:
        if (!is_empty_string(v))
            convert_date_cell(r, m, c, v, cell);
        return;
    case CAT_TEXT:
    case CAT_LONGTEXT:
        convert_text(r, m, c, v, cell);
        return;
    case CAT_SYNCED_AT:
    case CAT_SERIAL:
    case CAT_DOCUMENT: /* the ETL's own columns: never mapped from Bsale JSON */
        return;
    }
}

/* The first present alternative of a '|'-separated path. Borrowed from item. */
static json_t *lookup(json_t *item, const char *paths)
{
    char one[128];
    const char *p = paths;
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n < sizeof(one)) {
            memcpy(one, p, n);
            one[n] = '\0';
            json_t *v = json_util_path(item, one);
            if (v && !json_is_null(v))
                return v;
        }
        if (!bar)
            return NULL;
        p = bar + 1;
    }
}

/* The record's id for reports: its first key column read from JSON, -1 when unreadable. */
static int64_t record_id(const struct cat_table *t, json_t *item)
{
    for (size_t i = 0; i < t->ncols; i++) {
        const struct cat_column *c = &t->cols[i];
        if ((c->flags & CAT_KEY) && c->json) {
            int64_t id;
            return json_util_int64(lookup(item, c->json), &id) ? id : -1;
        }
    }
    return -1;
}

/* A key cell: must convert exactly, else *why says what is wrong. */
static bool key_cell(const struct cat_column *c, json_t *v, struct cat_value *cell, char *why,
                     size_t n)
{
    if (!v) {
        snprintf(why, n, "key column '%s' (%s) is missing", c->name, c->json);
        return false;
    }
    bool ok = c->type == CAT_ID || c->type == CAT_INT ? json_util_int64(v, &cell->i) : false;
    if (ok) {
        cell->kind = CAT_V_INT;
        return true;
    }
    char value[64];
    describe(v, value, sizeof(value));
    snprintf(why, n, "key column '%s' (%s) is not a valid id: %s", c->name, c->json, value);
    return false;
}

/* Maps into a new row; false with why set when the record cannot be keyed (no row kept). */
static bool map_row(struct cat_rows *r, const struct map_ctx *m, json_t *item, int64_t parent_id,
                    char *why, size_t n)
{
    const struct cat_table *t = r->table;
    if (!json_is_object(item)) {
        snprintf(why, n, "item is %s, not a JSON object", json_type_name(item));
        return false;
    }
    struct cat_value *row = rows_append(r);
    for (size_t i = 0; i < t->ncols; i++) {
        const struct cat_column *c = &t->cols[i];
        struct cat_value *cell = &row[i];
        if (c->flags & CAT_PARENT) {
            cell->kind = CAT_V_INT;
            cell->i = parent_id;
            continue;
        }
        if (!c->json)
            continue;
        json_t *v = lookup(item, c->json);
        /* The row was not counted yet: on a bad key its cells are simply reused. */
        if (c->flags & CAT_KEY) {
            if (!key_cell(c, v, cell, why, n))
                return false;
        } else if (v) {
            convert_cell(r, m, c, v, cell);
        }
    }
    r->n++;
    return true;
}

enum err_code catalog_map_item(struct cat_rows *r, json_t *item, int64_t parent_id, struct err *e)
{
    struct map_ctx m = {r->table, NULL, -1};
    char why[256];
    if (!map_row(r, &m, item, parent_id, why, sizeof(why)))
        return err_set(e, ERR_JSON, "%s: %s", r->table->name, why);
    return ERR_OK;
}

bool catalog_map_item_report(struct cat_rows *r, json_t *item, int64_t parent_id,
                             const struct cat_report *rep)
{
    struct map_ctx m = {r->table, rep, json_is_object(item) ? record_id(r->table, item) : -1};
    char why[256];
    if (map_row(r, &m, item, parent_id, why, sizeof(why)))
        return true;
    if (rep && rep->fn) {
        char problem[320];
        snprintf(problem, sizeof(problem), "%s: %s; record skipped", r->table->name, why);
        rep->fn(rep->ctx, m.record_id, problem);
    }
    return false;
}
