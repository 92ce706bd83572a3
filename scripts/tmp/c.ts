import { canonicalize } from "../../node-service/src/risk/attributes";
for (const s of ["88 Harbour Road", "No.88 Harbor Rd.", "８８　Ｈａｒｂｏｕｒ　Ｒｏａｄ", "深圳市海港路88号", "88 Haigang Road, Shenzhen", "Rm 1203, Bldg 5, 3rd Hi-Tech Ave"]) console.log(JSON.stringify(s), "->", canonicalize("address", s));
for (const s of ["张伟", "Zhang Wei", "WEI, Zhang", "Mr. Zhang-Wei"]) console.log(s, "->", canonicalize("person", s));
for (const s of ["Apex Trading Co., Ltd.", "APEX TRADING COMPANY LIMITED", "深圳华信有限公司", "Huaxin Shenzhen Co"]) console.log(s, "->", canonicalize("name", s));
console.log(canonicalize("account","6222 0201-0012 3456"), canonicalize("account","６２２２０２０１００１２３４５６"), canonicalize("phone","+86 138-0013-8000"), canonicalize("phone","13800138000"));
for (const s of ["张小明", "Zhang Xiao-Ming", "MING XIAO, Zhang", "深圳华信有限公司", "Shenzhen Huaxin Co., Ltd.", "SHENZHEN-HUAXIN COMPANY LIMITED"]) console.log(s, "->", canonicalize(s.length<5||s.includes("Xiao")||s.includes("XIAO")?"person":"name", s));
